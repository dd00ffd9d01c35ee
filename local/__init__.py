"""The local stack behind `make dev`: moto, the provider sandbox, the HTTP API and Lambda Invoke."""
