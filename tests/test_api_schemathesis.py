"""schemathesis against the running local stack: no server errors, responses match the document.

Every operation in the OpenAPI document is called with generated data, and each response is
checked: never a 5xx, status codes, content types and bodies as documented. The schema is the one
the app serves (the same builder); the stack serves the requests.
"""

import schemathesis

from chalicelib import openapi

MAX_EXAMPLES = 25

schema = schemathesis.openapi.from_dict(openapi.document())
schema.config.generation.update(max_examples=MAX_EXAMPLES)


@schema.parametrize()
def test_api_operation_conforms_to_its_document(case, local_stack):
    case.call_and_validate(base_url=local_stack.base_url)


def test_served_document_is_the_one_tested(local_stack):
    import json
    import urllib.request

    with urllib.request.urlopen(local_stack.url("/api/v1/openapi.json"), timeout=10) as response:
        assert json.load(response) == openapi.document()
