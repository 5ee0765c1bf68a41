"""The message inside a Pub/Sub push delivery (a CloudEvent from Eventarc), without the Pub/Sub
client library: the function that receives it needs only base64 and JSON."""

import base64
import binascii
from typing import Any

from shared.errors import BadRequest
from shared.queue.base import Message, ThinMessage, decode


def decode_push(cloud_event_data: dict[str, Any]) -> Message:
    """The message inside a Pub/Sub CloudEvent's data:
    ``{"message": {"data": <base64>, "attributes": {...}, "messageId": ...}, "subscription": ...}``.
    """
    envelope = cloud_event_data.get("message") if isinstance(cloud_event_data, dict) else None
    if not isinstance(envelope, dict):
        raise BadRequest("malformed push message: no 'message' object")
    data = envelope.get("data")
    if not isinstance(data, str) or not data:
        raise BadRequest("malformed push message: 'message.data' is not a base64 string")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("malformed push message: 'message.data' is not valid base64") from exc
    message = decode(raw)
    attributes = envelope.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise BadRequest("malformed push message: 'message.attributes' is not an object")
    claimed = attributes.get("event_id")
    if isinstance(message, ThinMessage) and claimed is not None and claimed != message.event_id:
        raise BadRequest("malformed push message: attributes name another event")
    return message
