"""A lab on a Docker engine other than the local one (DOCKER_HOST)."""
