"""Tests of the production-shaped stack: compose, image, Grafana, the migrate service, the generator."""
