COPY drain_raw (stream_id, entry) FROM STDIN
