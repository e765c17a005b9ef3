"""Which object types the log knows and how to read their current state for verification."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db import models

# object type → loader of the current states of many objects at once (absent when deleted)
StateLoader = Callable[[list[str]], dict[str, dict[str, Any]]]
_loaders: dict[str, StateLoader] = {}
BULK = 500


class Evidenced(models.Model):
    """Mixin for models whose rows are written through services and logged in the evidence chain."""

    class Meta:
        abstract = True

    def evidence_state(self) -> dict[str, Any]:
        return model_state(self)


def object_type(instance_or_model: models.Model | type[models.Model]) -> str:
    return instance_or_model._meta.label_lower


def model_state(instance: models.Model) -> dict[str, Any]:
    """Every concrete field, normalised the way the database returns it."""
    state: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        value = field.value_from_object(instance)
        if value is not None and not isinstance(field, models.JSONField):
            value = field.to_python(value)
        state[field.attname] = value
    return state


def register(type_name: str, loader: StateLoader) -> None:
    _loaders[type_name] = loader


def loader_for(type_name: str) -> StateLoader | None:
    return _loaders.get(type_name)


def _model_loader(model: type[Evidenced]) -> StateLoader:
    def load(object_ids: list[str]) -> dict[str, dict[str, Any]]:
        states: dict[str, dict[str, Any]] = {}
        for start in range(0, len(object_ids), BULK):
            chunk = object_ids[start : start + BULK]
            for instance in model._default_manager.filter(pk__in=chunk):
                states[str(instance.pk)] = instance.evidence_state()
        return states

    return load


def register_models() -> None:
    for model in apps.get_models():
        if issubclass(model, Evidenced):
            register(object_type(model), _model_loader(model))
