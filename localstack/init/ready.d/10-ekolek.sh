#!/bin/bash
# LocalStack ready hook: the initialisation localstack/emulators.sh does
# without Docker. It creates the store's table from localstack/table.json
# (dynamo.TableDefinition rendered; a test in infra/rie keeps them equal) with
# TTL on expires_at, verifies the SES sender identity, and creates the signing
# key secret the template's functions read at cold start. Safe to run again.
set -euo pipefail

TABLE=${EKOLEK_TABLE:-ekolek-local}
EMAIL_FROM=${EKOLEK_EMAIL_FROM:-no-reply@ekolek.example.org}
SECRET=${EKOLEK_SIGNING_KEY_SECRET_NAME:-ekolek-local/signing-key}
DEFINITION=${EKOLEK_TABLE_DEFINITION:-/etc/localstack/ekolek/table.json}

if awslocal dynamodb describe-table --table-name "$TABLE" >/dev/null 2>&1; then
	echo "ekolek: table $TABLE exists"
else
	awslocal dynamodb create-table --cli-input-json "file://$DEFINITION" --table-name "$TABLE" >/dev/null
	awslocal dynamodb wait table-exists --table-name "$TABLE"
	echo "ekolek: created table $TABLE"
fi
TTL=$(awslocal dynamodb describe-time-to-live --table-name "$TABLE" \
	--query TimeToLiveDescription.TimeToLiveStatus --output text)
if [ "$TTL" != ENABLED ] && [ "$TTL" != ENABLING ]; then
	awslocal dynamodb update-time-to-live --table-name "$TABLE" \
		--time-to-live-specification Enabled=true,AttributeName=expires_at >/dev/null
	echo "ekolek: TTL on expires_at"
fi

awslocal ses verify-email-identity --email-address "$EMAIL_FROM"
echo "ekolek: verified sender $EMAIL_FROM"

if awslocal secretsmanager describe-secret --secret-id "$SECRET" >/dev/null 2>&1; then
	echo "ekolek: secret $SECRET exists"
else
	KEY=$(python3 -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())')
	ARN=$(awslocal secretsmanager create-secret --name "$SECRET" --secret-string "$KEY" --query ARN --output text)
	echo "ekolek: created secret $SECRET ($ARN)"
fi
echo "ekolek: ready (table $TABLE, sender $EMAIL_FROM, secret $SECRET)"
