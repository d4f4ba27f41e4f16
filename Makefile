# Stride Shoes. `make run` serves the store locally; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs only what running needs (requirements-local.txt); `make test` adds the tools.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check

.PHONY: run reset test lint format bench clean help infra package deploy-data secrets deploy deploy-package deploy-edge \
	create-admin rotate-signing-key logs teardown check-stage clean-pyc

help:
	@echo "make run    - local AWS (moto), demo catalogue, admin, store on http://127.0.0.1:$${PORT:-8000}; data kept in .local/"
	@echo "make reset  - the same, starting from empty (forgets the data saved in .local/)"
	@echo "make test   - install and run the whole test suite"
	@echo "make lint   - ruff, bandit and mypy"
	@echo "make bench  - benchmarks (figures go in docs/benchmarks.md)"
	@echo "make openapi - regenerate chalicelib/data/openapi.json.gz after changing the API"
	@echo "make css    - minify styles/*.css into chalicelib/static/css/ after changing a stylesheet"
	@echo "Operations (docs/operations.md), STAGE=dev|prod:"
	@echo "make infra                                  - regenerate infra/data.json and the IAM policies from the models"
	@echo "make deploy-data STAGE=.. UPLOAD_ORIGIN=..  - tables and bucket (CloudFormation stack shoeshop-STAGE-data)"
	@echo "make secrets STAGE=..                       - create the SSM SecureString signing key and pepper (once), ask for the Stripe keys"
	@echo "make deploy STAGE=..                        - chalice deploy of the precompiled package"
	@echo "make deploy-edge STAGE=.. REST_API_ID=..    - WAF web ACL (infra/edge.json) + API stage throttling"
	@echo "make package STAGE=..                       - chalice package with infra/merge.json into out/STAGE"
	@echo "make deploy-package STAGE=.. ARTIFACT_BUCKET=.. - deploy the packaged SAM template with CloudFormation"
	@echo "make create-admin STAGE=.. USERNAME=.. EMAIL=.. - first back-office admin (asks for the password)"
	@echo "make rotate-signing-key STAGE=..            - new signing key, recycle warm Lambdas"
	@echo "make logs STAGE=..                          - follow the function's logs"
	@echo "make teardown STAGE=dev                     - delete the app, data stack and secrets of a stage"

$(RUN_STAMP): requirements.txt requirements-local.txt
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing what the local shop needs (requirements-local.txt; the test tools come with make test)"
	$(PIP_INSTALL) -r requirements-local.txt
	@touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) requirements-dev.txt
	@echo "Installing the test and lint tools (requirements-dev.txt)"
	$(PIP_INSTALL) -r requirements-dev.txt
	@touch $(STAMP)

# The browser-side checkers (axe-core, html-validate) and Lighthouse, pinned in package-lock.json.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install -y nodejs npm" >&2; exit 1; }
	npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

run: $(RUN_STAMP)
	$(BIN)/python manage.py run

reset: $(RUN_STAMP)
	$(BIN)/python manage.py run --fresh

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -c pyproject.toml -r app.py chalicelib
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m bench

.PHONY: openapi css
openapi: $(STAMP)
	$(BIN)/python -m infra.openapi

# Edit styles/*.css; this writes the minified copies the app serves (chalicelib/static/css/).
css: $(RUN_STAMP)
	$(BIN)/python -m infra.css

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# -- operations (docs/operations.md) -------------------------------------------------------------
STAGE ?= dev
AWS ?= aws
CHALICE := $(BIN)/chalice
DATA_STACK = shoeshop-$(STAGE)-data
FUNCTION = shoeshop-$(STAGE)

check-stage:
	@case "$(STAGE)" in dev|prod) ;; *) echo "STAGE must be dev or prod" >&2; exit 2;; esac

infra: $(RUN_STAMP)
	$(BIN)/python -m infra.build

deploy-data: check-stage
	@test -n "$(UPLOAD_ORIGIN)" || { echo "set UPLOAD_ORIGIN=https://<the shop's origin>" >&2; exit 2; }
	$(AWS) cloudformation deploy --stack-name $(DATA_STACK) --template-file infra/data.json \
		--capabilities CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
		--parameter-overrides Stage=$(STAGE) UploadOrigin=$(UPLOAD_ORIGIN)

# Creates each parameter once; an existing one is kept (overwriting the pepper would lock everyone out).
secrets: check-stage $(RUN_STAMP)
	@for name in signing-key password-pepper; do \
		if error=$$($(BIN)/python -m infra.secret $(STAGE) $$name | \
			$(AWS) ssm put-parameter --cli-input-json file:///dev/stdin 2>&1 >/dev/null); then \
			echo "created /shoeshop/$(STAGE)/$$name"; \
		elif echo "$$error" | grep -q ParameterAlreadyExists; then \
			echo "kept existing /shoeshop/$(STAGE)/$$name"; \
		else echo "$$error" >&2; exit 1; fi; \
	done
	@# The Stripe keys (docs/operations.md "Card payments"): pasted at the terminal without echo; an
	@# empty answer (or no terminal) skips one, and an existing parameter is kept.
	@for name in stripe-secret-key stripe-webhook-secret; do \
		input=$$($(BIN)/python -m infra.secret $(STAGE) $$name); status=$$?; \
		if [ $$status -eq 3 ]; then echo "skipped $$name (without both Stripe keys $(STAGE) offers no card payments)"; continue; fi; \
		[ $$status -eq 0 ] || exit 1; \
		if error=$$(printf '%s' "$$input" | $(AWS) ssm put-parameter --cli-input-json file:///dev/stdin 2>&1 >/dev/null); then \
			echo "created /shoeshop/$(STAGE)/$$name"; \
		elif echo "$$error" | grep -q ParameterAlreadyExists; then \
			echo "kept existing /shoeshop/$(STAGE)/$$name"; \
		else echo "$$error" >&2; exit 1; fi; \
	done

# Chalice zips chalicelib/ as it is, compiled files included: ship sources only.
clean-pyc:
	find app.py chalicelib -name __pycache__ -type d -prune -exec rm -rf {} +

# The package is built and precompiled first (Lambda's /var/task is read-only: without .pyc every cold
# start compiles botocore), then placed where chalice deploy reuses it instead of building its own.
deploy: package
	$(BIN)/python -m infra.precompile --for-deploy out/$(STAGE)/deployment.zip
	@# The stream functions are wired to the data stack's stream ARNs (STREAM_ARN_<TABLE>, docs/operations.md).
	arns=$$($(BIN)/python -m infra.stream_arns $(STAGE)) && env $$arns $(CHALICE) deploy --stage $(STAGE)
	@# chalice deploy leaves log retention at "never expire"; the package path sets it in infra/merge.json
	@for function in $(FUNCTION) $$($(BIN)/python -m infra.stream_arns --functions $(STAGE)); do \
		$(AWS) logs create-log-group --log-group-name /aws/lambda/$$function 2>/dev/null; \
		$(AWS) logs put-retention-policy --log-group-name /aws/lambda/$$function --retention-in-days 30; \
	done

package: check-stage $(RUN_STAMP) clean-pyc
	rm -rf out/$(STAGE)
	$(CHALICE) package --stage $(STAGE) --merge-template infra/merge.json out/$(STAGE)
	$(BIN)/python -m infra.precompile out/$(STAGE)/deployment.zip

deploy-package: package
	@test -n "$(ARTIFACT_BUCKET)" || { echo "set ARTIFACT_BUCKET=<an S3 bucket for the code zip>" >&2; exit 2; }
	$(AWS) cloudformation package --template-file out/$(STAGE)/sam.json --s3-bucket $(ARTIFACT_BUCKET) \
		--output-template-file out/$(STAGE)/packaged.json
	$(AWS) cloudformation deploy --template-file out/$(STAGE)/packaged.json --stack-name shoeshop-$(STAGE)-app \
		--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --parameter-overrides Stage=$(STAGE)

create-admin: check-stage $(RUN_STAMP)
	@test -n "$(USERNAME)" -a -n "$(EMAIL)" || { echo "set USERNAME=.. EMAIL=.." >&2; exit 2; }
	$(BIN)/python -m infra.stage_env $(STAGE) $(BIN)/python manage.py create-admin --username "$(USERNAME)" --email "$(EMAIL)"

# The new key signs; the previous one is kept for verifying (tokens issued a minute ago still work).
# The values stay in shell variables (never argv or a file); any failed step changes nothing.
rotate-signing-key: check-stage $(RUN_STAMP)
	@current=$$($(AWS) ssm get-parameter --name /shoeshop/$(STAGE)/signing-key --with-decryption \
		--query Parameter.Value --output text) && \
	rotated=$$(printf '%s' "$$current" | $(BIN)/python -m infra.secret $(STAGE) signing-key --rotate) && \
	printf '%s' "$$rotated" | $(AWS) ssm put-parameter --cli-input-json file:///dev/stdin >/dev/null
	$(AWS) lambda update-function-configuration --function-name $(FUNCTION) \
		--description "signing key rotated $$(date -u +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
	@echo "rotated /shoeshop/$(STAGE)/signing-key (previous key kept for verifying); warm Lambdas are being replaced"

logs: check-stage
	$(AWS) logs tail /aws/lambda/$(FUNCTION) --follow --format short

teardown: check-stage
	$(CHALICE) delete --stage $(STAGE)
	$(AWS) cloudformation delete-stack --stack-name $(DATA_STACK)
	$(AWS) cloudformation wait stack-delete-complete --stack-name $(DATA_STACK)
	$(AWS) ssm delete-parameters --names /shoeshop/$(STAGE)/signing-key /shoeshop/$(STAGE)/password-pepper \
		/shoeshop/$(STAGE)/stripe-secret-key /shoeshop/$(STAGE)/stripe-webhook-secret

# Edge limits (docs/operations.md "Edge limits"): the WAF web ACL on the API stage, then the stage's
# throttling, which chalice deploy cannot set (the packaged path sets the same numbers in
# infra/merge.json). REST_API_ID: the id in the URL chalice deploy prints.
API_RATE_LIMIT ?= 50
API_BURST_LIMIT ?= 100
API_STAGE_NAME ?= api
deploy-edge: check-stage
	@test -n "$(REST_API_ID)" || { echo "REST_API_ID is required (the id in the API URL)" >&2; exit 2; }
	$(AWS) cloudformation deploy --stack-name shoeshop-$(STAGE)-edge --template-file infra/edge.json \
		--parameter-overrides Stage=$(STAGE) RestApiId=$(REST_API_ID) ApiStageName=$(API_STAGE_NAME)
	$(AWS) apigateway update-stage --rest-api-id $(REST_API_ID) --stage-name $(API_STAGE_NAME) --patch-operations \
		op=replace,path=/*/*/throttling/rateLimit,value=$(API_RATE_LIMIT) \
		op=replace,path=/*/*/throttling/burstLimit,value=$(API_BURST_LIMIT)
