import pytest
from pydantic import ValidationError

from flows.vanishing_gradients import main, usable_output_dir, vanishing_gradients
from tasks.parameters import StudyParameters, command_line
from tests.helpers import task_runs_of


def test_defaults_are_the_reference_study():
    params = StudyParameters()

    assert params.data.points_per_class == 500
    assert params.data.classes == 3
    assert params.data.angle_noise == 0.2
    assert (params.data.radius_min, params.data.radius_max) == (0.0, 1.0)
    assert params.data.angle_per_class == 4.0
    assert params.data.test_fraction == 0.2
    assert params.data.validation_fraction == 0.2
    assert params.training.epochs == 100
    assert params.training.batch_size == 32
    assert params.training.learning_rate == 0.01
    assert len(params.variants) == 4


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"data": {"classes": 1}}, "greater than or equal to 2"),
        ({"training": {"epochs": -5}}, "greater than or equal to 1"),
        ({"data": {"test_fraction": 1.5}}, "less than 1"),
        ({"data": {"radius_min": 1.0, "radius_max": 0.5}}, "must be above"),
        ({"data": {"points_per_class": 10, "test_fraction": 0.06}}, "test split"),
        (
            {"data": {"points_per_class": 10, "validation_fraction": 0.07}},
            "validation split",
        ),
        (
            {
                "data": {
                    "points_per_class": 10,
                    "test_fraction": 0.75,
                    "validation_fraction": 0.7,
                }
            },
            "training split",
        ),
        ({"data": {"angle_noise": float("inf")}}, "finite number"),
        ({"data": {"radius_max": 1e20}}, "less than or equal to 1000"),
        ({"training": {"learning_rate": float("nan")}}, "finite number"),
        ({"variants": ["relu", "relu"]}, "more than once"),
        ({"variants": ["tanh"]}, "relu-batchnorm"),
        ({"training": {"learning_rate": 0}}, "greater than 0"),
        ({"repeats": 3}, "Extra inputs are not permitted"),
        ({"seeds": 0}, "greater than or equal to 1"),
        ({"seeds": 1000}, "less than or equal to 100"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(update, message):
    with pytest.raises(ValidationError, match=message):
        StudyParameters.model_validate(update)


def test_the_command_line_refuses_bad_parameters_before_any_work():
    with pytest.raises(SystemExit) as exit_info:
        main(["--data.classes", "1", "--training.epochs", "-1"])

    message = str(exit_info.value.code)
    assert "nothing was run" in message
    assert "--data.classes: Input should be greater" in message
    assert "--training.epochs: Input should be greater" in message


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--variants", '["relu"'], "Missing end delimiter"),
        (["--training", '{"epochs": 1'], 'field "training"'),
        (["--variants", "relu,relu"], "--variants: variants are listed"),
        (["--variants", "relu,tanh"], "--variants: Input should be"),
        (["--variants", "relu,tanh"], "(got 'tanh')"),
        (["--data.radius-min", "2"], "--data: radius-max (1.0) must be above"),
    ],
)
def test_the_command_line_explains_malformed_values(arguments, message):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)

    assert "nothing was run" in str(exit_info.value.code)
    assert message in str(exit_info.value.code)


def test_the_flow_refuses_bad_parameters_before_any_work(prefect_server, tmp_path):
    state = vanishing_gradients(
        params={"data": {"test_fraction": 1.5}},
        output_dir=tmp_path,
        return_state=True,
    )

    assert state.is_failed()
    assert "test_fraction: Input should be less than 1" in state.message
    assert task_runs_of(state) == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "obstacle",
    [
        "file",
        "latest-directory",
        "latest-file",
        "runs-file",
        "runs-dangling-link",
        "dangling-link",
    ],
)
def test_an_unusable_output_folder_is_refused_before_any_work(
    prefect_server, tmp_path, obstacle
):
    output_dir = tmp_path / "out"
    if obstacle == "file":
        output_dir.write_text("not a folder")
    elif obstacle == "runs-file":
        output_dir.mkdir()
        (output_dir / "runs").write_text("x")
    elif obstacle == "runs-dangling-link":
        output_dir.mkdir()
        (output_dir / "runs").symlink_to(tmp_path / "missing")
    elif obstacle == "dangling-link":
        output_dir.symlink_to(tmp_path / "missing")
    else:
        output_dir.mkdir()
        latest = output_dir / "latest"
        latest.mkdir() if obstacle == "latest-directory" else latest.write_text("x")
    before = sorted(tmp_path.rglob("*"))

    state = vanishing_gradients(
        params={"training": {"epochs": 1}}, output_dir=output_dir, return_state=True
    )

    assert state.is_failed()
    assert "output_dir" in state.message
    assert task_runs_of(state) == []
    assert sorted(tmp_path.rglob("*")) == before


def test_checking_an_output_folder_creates_nothing(tmp_path):
    usable_output_dir(tmp_path / "deep" / "er")

    assert list(tmp_path.iterdir()) == []


def test_the_command_line_refuses_an_unusable_artifacts_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / "latest").write_text("mine")

    with pytest.raises(SystemExit) as exit_info:
        main(["--training.epochs", "1"])

    assert "Nothing was run: artifacts/latest is not the link" in str(
        exit_info.value.code
    )
    assert (tmp_path / "artifacts" / "latest").read_text() == "mine"


def test_command_line_reproduces_non_default_parameters():
    params = StudyParameters.model_validate(
        {"training": {"epochs": 7}, "variants": ["relu"], "seeds": 2, "seed": 3}
    )

    assert command_line(StudyParameters()) == "make run"
    assert command_line(params) == (
        'make run ARGS="--training.epochs 7 --variants relu --seeds 2 --seed 3"'
    )
    assert StudyParameters.model_validate(params.model_dump()) == params


def test_seeds_repeat_from_the_first_seed_and_the_fifth_variant_is_optional():
    params = StudyParameters(seed=7, seeds=3)

    assert params.repeat_seeds == [7, 8, 9]
    assert "relu-batchnorm-every-layer" not in StudyParameters().variants
    assert StudyParameters(variants=["relu-batchnorm-every-layer"]).variants
