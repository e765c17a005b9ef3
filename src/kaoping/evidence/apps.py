from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "kaoping.evidence"
    label = "evidence"
    verbose_name = "存证"

    def ready(self) -> None:
        from kaoping.evidence import registry

        registry.register_models()
