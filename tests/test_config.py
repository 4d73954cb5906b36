"""Settings are read once from an environment mapping, with every malformed value named."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgopt.config import ConfigError, Settings, describe_settings


def test_defaults_need_only_a_token():
    settings = Settings.from_env({"API_TOKEN": "t"})
    assert (settings.host, settings.port, settings.max_upload_mb) == ("0.0.0.0", 3000, 40)
    assert (settings.max_source_pixels, settings.max_dimension, settings.default_quality) == (
        50_000_000,
        4096,
        80,
    )
    assert (settings.avif_codec, settings.avif_speed, settings.webp_method) == ("aom", 9, 4)
    assert (settings.max_requests, settings.timeout, settings.log_level) == (1000, 60, "info")
    assert settings.workers >= 1


@pytest.mark.parametrize(
    ("variable", "raw", "attribute", "value"),
    [
        ("PORT", "8080", "port", 8080),
        ("WEB_CONCURRENCY", "3", "workers", 3),
        ("AVIF_CODEC", "SVT", "avif_codec", "svt"),
        ("LOG_LEVEL", "DEBUG", "log_level", "debug"),
        ("MAX_UPLOAD_MB", " 25 ", "max_upload_mb", 25),
        ("MAX_DIMENSION", "", "max_dimension", 4096),
    ],
)
def test_values_are_parsed(variable, raw, attribute, value):
    settings = Settings.from_env({"API_TOKEN": "t", variable: raw})
    assert getattr(settings, attribute) == value


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("API_TOKEN", ""),
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("MAX_UPLOAD_MB", "-1"),
        ("MAX_UPLOAD_MB", "1.5"),
        ("AVIF_CODEC", "foo"),
        ("AVIF_SPEED", "11"),
        ("DEFAULT_QUALITY", "0"),
        ("LOG_LEVEL", "loud"),
    ],
)
def test_malformed_values_name_the_variable(variable, raw):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({"API_TOKEN": "t", variable: raw})


def test_missing_token_is_named():
    with pytest.raises(ConfigError, match="API_TOKEN"):
        Settings.from_env({})


def test_token_never_appears_in_repr():
    assert "sekrit" not in repr(Settings.from_env({"API_TOKEN": "sekrit"}))


def test_every_setting_is_documented_in_env_example():
    example = (Path(__file__).parent.parent / ".env.example").read_text()
    for variable, _default, _help in describe_settings():
        assert f"{variable}=" in example, variable


@pytest.mark.parametrize(
    ("raw", "tokens"),
    [("one", ("one",)), (" old , new ", ("old", "new")), ("a,b,c,d", ("a", "b", "c", "d"))],
)
def test_api_token_may_list_tokens_for_a_rotation(raw, tokens):
    assert Settings.from_env({"API_TOKEN": raw}).api_tokens == tokens


@pytest.mark.parametrize("raw", ["old,", ",new", "a,,b", "a,b,c,d,e"])
def test_a_malformed_token_list_is_named(raw):
    with pytest.raises(ConfigError, match="API_TOKEN"):
        Settings.from_env({"API_TOKEN": raw})


@pytest.mark.parametrize(
    ("variable", "raw", "attribute", "value"),
    [
        ("BODY_READ_TIMEOUT", "3", "body_read_timeout", 3),
        ("MAX_WORKER_RSS_MB", "0", "max_worker_rss_mb", 0),
        ("TRIM_ABOVE_MB", "64", "trim_above_mb", 64),
        ("MAX_VARIANTS", "4", "max_variants", 4),
    ],
)
def test_lifecycle_settings_are_parsed(variable, raw, attribute, value):
    assert getattr(Settings.from_env({"API_TOKEN": "t", variable: raw}), attribute) == value
