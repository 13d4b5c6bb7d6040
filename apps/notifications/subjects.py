"""What an SMS is about, as the app that owns the subject hands it over.

The notifications app sits below the apps whose objects it texts about (orders): it never imports
them. The owner builds an :class:`SmsDraft` — the subject's id (the message's ``order`` column),
a label for messages and logs, the phone number, the kind of message and its text — and calls
the services with it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SmsSubject:
    pk: int
    #: "Order 100234": how refusals and logs name it.
    label: str
    #: E.164, copied into the message when it is queued.
    phone: str


@dataclass(frozen=True)
class SmsDraft:
    subject: SmsSubject
    kind: str
    text: str
