"""Local emulation: embedded servers, the gateway, and the supervisor behind `make run`."""
