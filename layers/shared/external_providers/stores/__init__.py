"""The only modules that touch DynamoDB and Secrets Manager."""
