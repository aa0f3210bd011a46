from pathlib import Path
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from surveyor.forms.model import load_form
import tests.sync.test_properties as t


def test_soak(pg_cluster, tmp_path: Path) -> None:
    t.SyncMachine.form = load_form(t.MINI)
    t.SyncMachine.base_dir = tmp_path
    t.SyncMachine.pg = pg_cluster
    run_state_machine_as_test(
        t.SyncMachine,
        settings=settings(
            max_examples=150,
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
