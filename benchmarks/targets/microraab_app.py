"""microraab: the demo's benchmark app (:mod:`app.bench`), mounted at the root."""

from app.bench import create_bench_app
from benchmarks.targets.shared import database_provider

app = create_bench_app(database_provider())
