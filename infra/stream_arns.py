"""Print `STREAM_ARN_<TABLE>=<arn>` for each streamed table, from the stage's data stack outputs.

    env $(python -m infra.stream_arns dev) chalice deploy --stage dev     # what `make deploy` runs
    python -m infra.stream_arns --functions dev                           # the stream Lambdas' names

`chalice deploy` wires each stream function (app.py `<table>_stream`) to the ARN its decorator
gets (chalicelib.stream_handler.event_source reads these variables while the CLI imports app.py).
The packaged path needs none of this: its template imports the stack's exports (infra/merge.json).
"""

import sys
from typing import Any


def stream_arns(stage: str, outputs: list[dict[str, Any]]) -> dict[str, str]:
    """Variable name -> stream ARN; SystemExit naming what is missing (data stack not updated)."""
    from chalicelib.stream_handler import arn_variable
    from infra.build import stream_export_suffix, streamed_tables

    values = {output["OutputKey"]: output["OutputValue"] for output in outputs}
    found = {}
    for table in streamed_tables():
        key = stream_export_suffix(table)
        if key not in values:
            raise SystemExit(f"shoeshop-{stage}-data has no output {key}: run `make deploy-data STAGE={stage}` first")
        found[arn_variable(table)] = values[key]
    return found


def main(argv: list[str]) -> int:
    import boto3

    functions = "--functions" in argv
    (stage,) = [arg for arg in argv if arg != "--functions"] or [""]
    if stage not in ("dev", "prod"):
        raise SystemExit("usage: python -m infra.stream_arns [--functions] dev|prod")
    if functions:
        from chalicelib.stream_handler import function_name
        from infra.build import streamed_tables

        print(" ".join(f"shoeshop-{stage}-{function_name(table)}" for table in streamed_tables()))
        return 0
    stack = boto3.client("cloudformation").describe_stacks(StackName=f"shoeshop-{stage}-data")["Stacks"][0]
    for name, arn in stream_arns(stage, stack.get("Outputs", [])).items():
        print(f"{name}={arn}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
