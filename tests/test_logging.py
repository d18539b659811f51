"""Progress on the "nablanet" logger: what fit and nablanet.dask log, at which level and under
which name; the verbose modes that show the records on the current stdout (once, without
leaving a handler behind); silencing; and progress="batch"."""

from __future__ import annotations

import io
import logging
import sys

import numpy as np
import pytest

import nablanet as nn

LOGGERS = ("", "nablanet", "nablanet.training", "nablanet.dask")


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5])


def net():
    return nn.Sequential.from_sizes([3, 4, 1], "tanh", seed=0)


def logger_state():
    """Handlers, level, propagate and disabled of the root logger and nablanet's loggers."""
    state = {}
    for name in LOGGERS:
        logger = logging.getLogger(name)
        state[name] = (list(logger.handlers), logger.level, logger.propagate, logger.disabled)
    return state


@pytest.fixture(autouse=True)
def restore_loggers():
    """Start from logging's defaults (root at WARNING, nablanet's loggers unset), whatever ran
    before in this process, and put back afterwards what a test set."""
    before = logger_state()
    logging.getLogger().setLevel(logging.WARNING)
    for name in LOGGERS[1:]:
        logger = logging.getLogger(name)
        logger.setLevel(logging.NOTSET)
        logger.propagate, logger.disabled = True, False
    yield
    for name, (handlers, level, propagate, disabled) in before.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


def nablanet_records(caplog, name=None):
    return [
        r
        for r in caplog.records
        if r.name.startswith("nablanet") and (name is None or r.name == name)
    ]


# ------------------------------------------------------------------- what fit logs, at which level
def test_the_package_logger_has_a_null_handler():
    handlers = logging.getLogger("nablanet").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_fit_logs_every_epoch_at_info_on_nablanet_training(caplog):
    caplog.set_level(logging.INFO, logger="nablanet")
    X, y = regression_data()
    history = net().fit(X, y, epochs=3, batch_size=16, verbose=False)
    records = nablanet_records(caplog)
    assert [(r.name, r.levelno) for r in records] == [("nablanet.training", logging.INFO)] * 3
    # the same numbers as the History (printed with 4 significant digits)
    expected = [f"epoch {e + 1}/3 loss={history['loss'][e]:.4g}" for e in range(3)]
    assert [r.getMessage() for r in records] == expected


def test_progress_batch_adds_a_debug_record_per_batch(caplog):
    caplog.set_level(logging.DEBUG, logger="nablanet")
    X, y = regression_data()  # 64 rows in batches of 16: 4 batches an epoch
    net().fit(X, y, epochs=2, batch_size=16, verbose=False, progress="batch")
    records = nablanet_records(caplog, "nablanet.training")
    debug = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    info = [r.getMessage() for r in records if r.levelno == logging.INFO]
    assert [m.split(" loss=")[0] for m in debug] == [
        f"epoch {e}/2 batch {b}/4" for e in (1, 2) for b in (1, 2, 3, 4)
    ]
    assert [m.split(" loss=")[0] for m in info] == ["epoch 1/2", "epoch 2/2"]


def test_per_epoch_progress_logs_no_batch_records(caplog):
    caplog.set_level(logging.DEBUG, logger="nablanet")
    X, y = regression_data()
    net().fit(X, y, epochs=2, batch_size=16, verbose=False, progress="epoch")
    levels = [r.levelno for r in nablanet_records(caplog)]
    assert levels == [logging.INFO, logging.INFO]


def test_progress_must_be_epoch_or_batch():
    X, y = regression_data()
    with pytest.raises(ValueError, match=r"unknown progress 'step'; expected one of"):
        net().fit(X, y, progress="step")


def test_early_stopping_is_logged_at_info(caplog):
    caplog.set_level(logging.INFO, logger="nablanet")
    X, y = regression_data()
    stop = nn.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    net().fit(X, y, epochs=10, callbacks=[stop], verbose=False)
    last = nablanet_records(caplog)[-1]
    assert (last.name, last.levelno) == ("nablanet.training", logging.INFO)
    assert last.getMessage().startswith("training stopped: early stopping at epoch 2")


def test_divergence_is_logged_and_still_warned(caplog):
    # DEBUG: the DivergenceWarning is the user-facing report (and the CLI's error), so the
    # stop record does not repeat it at INFO
    caplog.set_level(logging.DEBUG, logger="nablanet")
    X, y = regression_data()
    model = nn.Sequential.from_sizes([3, 4, 1], "relu", lr=1e30, seed=0)
    with np.errstate(all="ignore"), pytest.warns(nn.DivergenceWarning, match="diverged"):
        model.fit(X * 1e10, y * 1e10, epochs=5, batch_size=16, verbose=False)
    last = nablanet_records(caplog)[-1]
    assert (last.name, last.levelno) == ("nablanet.training", logging.DEBUG)
    assert last.getMessage() == f"training stopped: {model.stop_reason}"


# --------------------------------------------------------------- verbose: the lines on stdout
def test_verbose_2_prints_every_epoch_once_on_stdout_on_every_fit(capsys):
    X, y = regression_data()
    model = net()
    before = logger_state()
    for _ in range(2):  # a second fit must not print the lines twice
        history = model.fit(X, y, epochs=3, batch_size=16, verbose=2)
        out, err = capsys.readouterr()
        assert out.splitlines() == [
            f"epoch {e + 1}/3 loss={history['loss'][e]:.4g}" for e in range(3)
        ]
        assert err == ""  # no bar in this mode
    assert logger_state() == before  # no handler left on any logger


def test_a_progress_logger_of_the_user_replaces_fits_own(capsys):
    # fit adds a ProgressLogger only when the callbacks have none: no line twice
    X, y = regression_data()
    history = net().fit(
        X, y, epochs=2, batch_size=16, verbose=False, callbacks=[nn.ProgressLogger(verbose=True)]
    )
    out, _ = capsys.readouterr()
    assert out.splitlines() == [f"epoch {e + 1}/2 loss={history['loss'][e]:.4g}" for e in range(2)]


def test_verbose_leaves_no_handler_behind_when_a_callback_raises(capsys):
    class Boom(nn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("boom")

    X, y = regression_data()
    model = net()
    before = logger_state()
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(X, y, epochs=3, verbose=2, callbacks=[Boom()])
    assert logger_state() == before
    # the epoch before the failure was shown, once (Boom runs before the logging callback)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" loss=")[0] for line in lines] == ["epoch 1/3"]
    model.fit(X, y, epochs=1, verbose=2)
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_verbose_2_shows_the_stdout_current_at_the_call(monkeypatch):
    X, y = regression_data()
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", first)
    net().fit(X, y, epochs=2, verbose=2)
    monkeypatch.setattr(sys, "stdout", second)
    net().fit(X, y, epochs=1, verbose=2)
    assert len(first.getvalue().splitlines()) == 2
    assert len(second.getvalue().splitlines()) == 1


def test_verbose_2_with_progress_batch_prints_the_batches(capsys):
    X, y = regression_data()
    net().fit(X, y, epochs=1, batch_size=32, verbose=2, progress="batch")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" loss=")[0] for line in lines] == [
        "epoch 1/1 batch 1/2",
        "epoch 1/1 batch 2/2",
        "epoch 1/1",
    ]


@pytest.mark.parametrize("where", ["nablanet", "root"])
def test_application_logging_shows_the_lines_once_instead_of_stdout(where, capsys):
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("nablanet" if where == "nablanet" else "")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    X, y = regression_data()
    net().fit(X, y, epochs=2, verbose=2)
    assert capsys.readouterr().out == ""  # not a second copy on stdout
    lines = sink.getvalue().splitlines()
    assert [line.split(" loss=")[0] for line in lines] == [
        "nablanet.training INFO epoch 1/2",
        "nablanet.training INFO epoch 2/2",
    ]


def test_application_showing_info_only_gets_the_epochs_and_stdout_the_batches(capsys):
    """Each record once: the application's root handler at INFO shows the epoch lines; the
    batch lines (DEBUG), which it does not show, go to stdout."""
    sink = io.StringIO()
    logging.getLogger().addHandler(logging.StreamHandler(sink))
    logging.getLogger().setLevel(logging.INFO)
    X, y = regression_data()
    net().fit(X, y, epochs=2, batch_size=32, verbose=2, progress="batch")
    printed = [line.split(" loss=")[0] for line in capsys.readouterr().out.splitlines()]
    logged = [line.split(" loss=")[0] for line in sink.getvalue().splitlines()]
    assert printed == [f"epoch {e}/2 batch {b}/2" for e in (1, 2) for b in (1, 2)]
    assert logged == ["epoch 1/2", "epoch 2/2"]


def test_root_configured_at_warning_still_lets_verbose_print_once(capsys):
    """logging.basicConfig() leaves root at WARNING: its handler would not show INFO records,
    so verbose shows them on stdout, and the root handler does not repeat them."""
    sink = io.StringIO()
    logging.getLogger().addHandler(logging.StreamHandler(sink))
    logging.getLogger().setLevel(logging.WARNING)
    X, y = regression_data()
    net().fit(X, y, epochs=2, verbose=2)
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert sink.getvalue() == ""


# ------------------------------------------------------------------------------------ silencing
@pytest.mark.parametrize("how", ["level", "disabled"])
@pytest.mark.parametrize("verbose", [2, True])
def test_silencing_the_nablanet_logger_silences_fit(how, verbose, capsys):
    logger = logging.getLogger("nablanet")
    if how == "level":
        logger.setLevel(logging.WARNING)
    else:
        logger.disabled = True
    X, y = regression_data()
    net().fit(X, y, epochs=2, verbose=verbose)  # verbose=True forces the bar on stderr
    assert capsys.readouterr() == ("", "")


def test_a_level_on_the_training_logger_alone_silences_fit(capsys):
    logging.getLogger("nablanet.training").setLevel(logging.ERROR)
    X, y = regression_data()
    net().fit(X, y, epochs=2, verbose=2)
    assert capsys.readouterr().out == ""


# -------------------------------------------------------------------------- progress="batch"
def test_plain_text_bar_ticks_every_batch(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    stream = io.StringIO()
    bar = nn.ProgressBar(stream=stream, force=True, unit="batch", mininterval=0)
    X, y = regression_data()
    net().fit(X, y, epochs=2, batch_size=16, callbacks=[bar], verbose=False)
    frames = [f.strip() for f in stream.getvalue().split("\r") if f.strip()]
    ticks = [f.split(" loss=")[0] for f in frames if "batch" in f]
    assert ticks == [f"epoch {e}/2 batch {b}/4" for e in (1, 2) for b in (1, 2, 3, 4)]
    assert sum("batch" not in f for f in frames) == 2  # each epoch's logs, at its end
    assert stream.getvalue().endswith("\n")


def test_tqdm_bar_counts_batches_with_progress_batch(capsys):
    pytest.importorskip("tqdm")
    X, y = regression_data()
    net().fit(X, y, epochs=2, batch_size=16, verbose=True, progress="batch")
    err = capsys.readouterr().err
    assert "8/8" in err and "batch/s" in err  # 2 epochs of 4 batches, counted in batches


def test_progress_bar_refuses_an_unknown_unit():
    with pytest.raises(ValueError, match=r"unknown unit 'row'"):
        nn.ProgressBar(unit="row")


# ------------------------------------------------------------------------------- nablanet.dask
def test_dask_lbfgs_iterations_are_records_of_nablanet_dask(caplog, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("distributed")
    from nablanet.dask import _lbfgs

    def objective(theta):  # f(theta) = |theta - 1|^2, minimised by L-BFGS-B in a few steps
        diff = theta - 1.0
        return float(diff @ diff), 2.0 * diff

    caplog.set_level(logging.INFO, logger="nablanet")
    _, _, n_iter = _lbfgs.minimize(
        objective, np.zeros(3), max_iter=50, max_fun=100, tol=1e-10, verbose=False
    )
    records = nablanet_records(caplog)
    assert n_iter >= 1
    assert [(r.name, r.levelno) for r in records] == [("nablanet.dask", logging.INFO)] * n_iter
    assert records[0].getMessage().startswith("Iteration 1, loss = ")
    assert capsys.readouterr().out == ""  # logged, not printed, without verbose


@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("sklearn")
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1,
        processes=False,
        threads_per_worker=1,
        dashboard_address=None,  # in-process: no sockets, no other process
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def _dask_fit(client, verbose):
    import dask.array as da

    from nablanet.dask import DaskMLPRegressor

    X, y = regression_data(n=80)
    est = DaskMLPRegressor(
        hidden_layer_sizes=(4,), solver="sgd", max_iter=3, batch_size=20, random_state=0,
        verbose=verbose,
        client=client, n_iter_no_change=100,
    )  # fmt: skip
    with pytest.warns(Warning, match="Maximum iterations"):
        est.fit(da.from_array(X, chunks=40), da.from_array(y, chunks=40))
    return est


def test_dask_sgd_iterations_are_logged(dask_client, caplog, capsys):
    caplog.set_level(logging.INFO, logger="nablanet")
    est = _dask_fit(dask_client, verbose=False)
    records = nablanet_records(caplog)
    assert [(r.name, r.levelno) for r in records] == [("nablanet.dask", logging.INFO)] * 3
    assert [r.getMessage() for r in records] == [
        f"Iteration {k + 1}, loss = {loss:.8f}" for k, loss in enumerate(est.loss_curve_)
    ]
    assert capsys.readouterr().out == ""


def test_dask_verbose_prints_scikit_learns_lines_once_unless_silenced(dask_client, capsys):
    est = _dask_fit(dask_client, verbose=True)
    assert capsys.readouterr().out.splitlines() == [
        f"Iteration {k + 1}, loss = {loss:.8f}" for k, loss in enumerate(est.loss_curve_)
    ]
    logging.getLogger("nablanet").setLevel(logging.WARNING)
    _dask_fit(dask_client, verbose=True)
    assert capsys.readouterr().out == ""


def test_dask_logs_scikit_learns_stopping_line(dask_client, caplog, capsys):
    import dask.array as da
    from sklearn.neural_network import MLPRegressor

    from nablanet.dask import DaskMLPRegressor

    X, y = regression_data(n=80)
    settings = dict(hidden_layer_sizes=(4,), solver="sgd", max_iter=10, batch_size=20,
                    random_state=0, tol=1e9, n_iter_no_change=1)  # fmt: skip
    MLPRegressor(**settings, verbose=True).fit(X, y)  # the reference: scikit-learn's own line
    expected = capsys.readouterr().out.splitlines()[-1]
    caplog.set_level(logging.INFO, logger="nablanet")
    DaskMLPRegressor(**settings, client=dask_client).fit(
        da.from_array(X, chunks=40), da.from_array(y, chunks=40)
    )
    last = nablanet_records(caplog)[-1]
    assert (last.name, last.levelno) == ("nablanet.dask", logging.INFO)
    assert last.getMessage() == expected
    assert expected.endswith("Stopping.")
