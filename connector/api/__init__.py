"""doge-connect from Python: build models in code, simulate them into Arrow tables or DataFrames,
and run them into files, stdout or Kafka exactly as `doge run` and `doge worker` do.

    from connector.api import Model, simulate

    bank = Model(["offline", "online"], initial="offline", name="bank")
    bank.attribute("balance", "long", initial="randint(0, 1000)")
    bank.topic("clickstream", "clickstream")            # schemas/clickstream.avsc
    bank.transition("login", "offline", "online", chance=0.1, emit=["clickstream"])
    bank.transition("logout", "online", "offline", chance=70)

    tables = simulate(bank, users=10_000, ticks=1440, seed=7, start="2024-01-01T00:00:00Z")
    clicks = tables["clickstream"].to_pandas()         # pandas: pip install 'doge-connect[pandas]'

A `Model` is the document a YAML model file gives (`Model.load("bank.yaml")`, `.to_yaml()`), so
validation, errors, determinism and every runtime feature are the same; errors name the line of
your code that built the offending part. `simulate` returns every event at once,
`simulate_batches` yields them every few ticks for long runs, and `run` commits them to a
destination (resumable). DOGE scripts run on this engine through `connector.doge`.
"""

from connector.api.kafka import Kafka
from connector.api.model import Model
from connector.api.run import RunResult, run
from connector.api.simulate import Batch, simulate, simulate_batches
from connector.errors import UserError
from connector.model.expr import ExprType, FunctionSpec

__all__ = ["Batch", "ExprType", "FunctionSpec", "Kafka", "Model", "RunResult", "UserError", "run",
           "simulate", "simulate_batches"]
