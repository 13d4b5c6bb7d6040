from django.db import models


class Sequence(models.Model):
    """A number sequence on databases without sequences (SQLite): its last value given out.

    PostgreSQL uses real sequences; this table stays empty there (``sequences.py``).
    """

    name = models.CharField("name", max_length=63, primary_key=True)
    last_value = models.BigIntegerField("last value")

    class Meta:
        verbose_name = "number sequence"

    def __str__(self) -> str:
        return f"{self.name} at {self.last_value}"
