"""python -m local [reset [--yes] | keys ARGS]: run the whole stack (make run), delete .local/
(make reset), or manage keys in its database (make key, make rotate-key, make keys).
"""

import sys

if sys.version_info < (3, 11):  # noqa: UP036 (say it plainly before an import fails obscurely)
    sys.exit(f"error: Python 3.11 or newer is needed; this is {sys.version.split()[0]}. Install it and run: make run PYTHON=python3.11")

from local import keytool
from local.run import reset, run

if __name__ == "__main__":
    if sys.argv[1:2] == ["reset"]:
        sys.exit(reset(sys.argv[2:]))
    sys.exit(keytool.main(sys.argv[2:]) if sys.argv[1:2] == ["keys"] else run())
