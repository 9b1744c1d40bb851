#!/usr/bin/env python3
"""Writes the seed corpus of decode_fuzz into corpus/ (run from anywhere).

Seeds are record values ("raw" mode) and, prefixed with 0x01 and an operation
byte, bare bodies ("body" mode; see decode_fuzz.cc). The bodies come from the
example requests and field tables of the endpoint documents (seeds 000-004);
the events of schemas/examples/ are fed to the fuzzer from there, not copied.
"""
import json
import pathlib
import shutil

HERE = pathlib.Path(__file__).resolve().parent
OPERATIONS = [  # in the order of sfmc::kOperations: the body-mode selector byte
    "transactional.sms.send",
    "transactional.sms.sendOne",
    "transactional.email.send",
    "mobileconnect.messageContact.send",
    "mobileconnect.messageList.send",
]

# Seed 000: POST /messaging/v1/sms/messages/ (field table).
SMS_SEND = {
    "definitionKey": "order-shipped",
    "recipients": [
        {"contactKey": "Astro25", "to": "15555551234", "messageKey": "msg-1", "attributes": {"FirstName": "Astro"}},
        {"contactKey": "Codey", "to": "15555552345", "messageKey": "msg-2"},
    ],
    "subscriptions": {"resubscribe": True},
    "content": {"message": "Hi %%FirstName%%"},
    "attributes": {"Campaign": "spring"},
}
# Seed 001: POST /messaging/v1/sms/messages/{messageKey} (example request).
SMS_SEND_ONE = {
    "definitionKey": "account-reset",
    "recipient": {
        "to": "15555551234",
        "contactKey": "Astro25",
        "attributes": {"FirstName": "Astro", "password": "1234567890ab"},
    },
    "subscriptions": {"resubscribe": True},
}
# Seed 002: POST /messaging/v1/email/messages/ (field table).
EMAIL_SEND = {
    "definitionKey": "welcome-email",
    "recipients": [
        {"contactKey": "astro@localhost", "to": "astro@localhost", "messageKey": "welcome-1",
         "attributes": {"FirstName": "Astro"}},
        {"contactKey": "codey@localhost"},
    ],
    "attributes": {"Campaign": "spring"},
}
# Seed 003: POST /sms/v1/messageContact/{id}/send (both example requests; the
# media URL is reduced to a path).
CONTACT_NUMBERS = {
    "mobileNumbers": ["13175551212"],
    "Subscribe": True,
    "Resubscribe": True,
    "keyword": "JOINSMS",
    "Override": True,
    "messageText": "Welcome to Code@",
    "ContentURL": "/lib/fe6d15707662057c7411/m/1/dj_CC_AUS.jpg",
    "SendTime": "2012-10-05 20:01",
}
CONTACT_SUBSCRIBERS = {
    "Subscribers": [
        {"MobileNumber": "15555554410", "SubscriberKey": "ExampleSubKey1", "Attributes": {"FirstName": "Michael"}},
        {"MobileNumber": "15555552254", "SubscriberKey": "ExampleSubKey2", "Attributes": {"FirstName": "Kristen"}},
    ],
    "Subscribe": "true",
    "Resubscribe": "true",
    "keyword": "JOINSMS",
    "Override": "false",
    "SendTime": "2012-10-05 20:01",
}
# Seed 004: POST /sms/v1/messageList/{id}/send (field table, every field).
MESSAGE_LIST = {
    "TargetListIds": ["1234", "5678"],
    "OverrideTemplateTargetLists": "true",
    "ExclusionListIds": ["9012"],
    "OverrideTemplateExclusionLists": "true",
    "IgnoreExclusionLists": False,
    "OverrideMessageText": "true",
    "MessageText": "Flash sale today",
    "blackoutWindow": {"UtcOffset": "-0500", "WindowStart": "2200", "WindowEnd": "0700"},
    "sendTime": "2012-10-17 17:01",
    "allowDuplication": True,
    "ContentURL": "/m/1/sale.jpg",
}


def event(operation, body, **envelope):
    return {"operation": operation, "id": f"seed-{operation}", **envelope, "body": body}


def text(value):
    return json.dumps(value, ensure_ascii=False, indent=1).encode()


def raw_seeds():
    sms_send = event(OPERATIONS[0], SMS_SEND, account="default")
    yield "raw-000-sms-send", text(sms_send)
    yield "raw-001-sms-send-one", text(event(OPERATIONS[1], SMS_SEND_ONE,
                                             messageKey="f4fe74b7-c3c0-4e5a-9f49-b63a641109a2"))
    yield "raw-002-email-send", text(event(OPERATIONS[2], EMAIL_SEND))
    yield "raw-003-contact-numbers", text(event(OPERATIONS[3], CONTACT_NUMBERS, messageId="MzA6Nzg6MA"))
    yield "raw-003-contact-subscribers", text(event(OPERATIONS[3], CONTACT_SUBSCRIBERS, messageId="MzA6Nzg6MA"))
    yield "raw-004-message-list", text(event(OPERATIONS[4], MESSAGE_LIST, messageId="MTA6Nzg6MA"))

    # Events each rule refuses.
    yield "raw-bad-unknown-operation", text(event("transactional.push.send", SMS_SEND))
    yield "raw-bad-no-body", text({"operation": OPERATIONS[0], "id": "x"})
    yield "raw-bad-wrong-path-parameter", text(event(OPERATIONS[0], SMS_SEND, messageId="MzA6Nzg6MA"))
    yield "raw-bad-missing-path-parameter", text(event(OPERATIONS[1], SMS_SEND_ONE))
    yield "raw-bad-duplicate-message-keys", text(event(OPERATIONS[0], {
        **SMS_SEND, "recipients": [{"to": "1", "messageKey": "k"}, {"to": "2", "messageKey": "k"}]}))
    yield "raw-bad-recipient-and-recipients", text(event(OPERATIONS[1], {
        **SMS_SEND_ONE, "recipients": SMS_SEND["recipients"]}, messageKey="k"))
    yield "raw-bad-contact-rules", text(event(OPERATIONS[3], {
        "mobileNumbers": ["1-317-555-1212", "", "1234567890123456"],
        "Subscribers": [{"MobileNumber": "1"}], "subscribe": "TRUE", "keyword": " ", "override": True,
        "messageText": "", "blackoutWindow": {"UtcOffset": "+1500", "WindowStart": "2460"},
        "SendTime": "2012-02-30 10:00"}, messageId="MzA6Nzg6MA"))
    yield "raw-bad-list-rules", text(event(OPERATIONS[4], {
        "TargetListIds": [], "ExclusionListIds": ["1"], "IgnoreExclusionLists": "true",
        "OverrideTemplateExclusionLists": True, "OverrideMessageText": False, "MessageText": "x",
        "BlackoutWindow": {}, "sendTime": "17:01"}, messageId="MTA6Nzg6MA"))
    # Names that need escaping in a JSON pointer, and non-ASCII text.
    yield "raw-bad-pointer-escapes", text(event(OPERATIONS[3], {
        "mobileNumbers": ["13175551212"], "a/b~c": 1, "Subscribers": [{"~1": "x", "/": 2}]},
        messageId="MzA6Nzg6MA", **{"ex/tra~": True}))
    yield "raw-bad-nul-in-names", b'{"operation":"transactional.sms.send","body":{"defi\\u0000nitionKey":"d",' \
        b'"recipients":[{"to":"1","\\u0000":0}]},"\\u0000id":1}'
    yield "raw-message-key-100-code-points", text(event(OPERATIONS[0], {
        "definitionKey": "d", "recipients": [{"to": "1", "messageKey": "\u00e9" * 100},
                                             {"to": "2", "messageKey": "\U0001F600" * 101}]}))
    yield "raw-bad-types", text({"operation": 7, "id": "", "account": ["a"], "messageKey": None, "body": []})

    # Broken values: the decoder must refuse them before or while parsing.
    batch = text(sms_send)
    yield "raw-broken-truncated", batch[: len(batch) // 2]
    yield "raw-broken-empty", b""
    yield "raw-broken-not-object", b'["transactional.sms.send", {}]'
    yield "raw-broken-bom", b"\xef\xbb\xbf" + batch
    yield "raw-broken-invalid-utf8", batch.replace(b"Astro25", b"Astro\xff\xc0\xaf")
    yield "raw-broken-lone-surrogate", batch.replace(b"Astro25", b"\\ud800Astro")
    yield "raw-broken-deep-nesting", b'{"operation":"transactional.sms.send","body":' + b'{"a":' * 80 + b"1" + \
        b"}" * 81
    yield "raw-deep-nesting-at-limit", b'{"operation":"transactional.sms.send","body":{"attributes":' + \
        b"[" * 62 + b"]" * 62 + b',"definitionKey":"d","recipients":[{"to":"1"}]}}'
    yield "raw-broken-brackets-in-strings", b'{"operation":"' + b"[" * 100 + b'","body":{}}'
    yield "raw-broken-numbers", b'{"operation":"transactional.sms.send","id":"n","body":{"definitionKey":"d",' \
        b'"recipients":[{"to":"1","attributes":{"a":1e400,"b":-0.0,"c":18446744073709551616}}]}}'


def body_seeds():
    bodies = [SMS_SEND, SMS_SEND_ONE, EMAIL_SEND, CONTACT_SUBSCRIBERS, MESSAGE_LIST]
    for selector, (operation, body) in enumerate(zip(OPERATIONS, bodies)):
        yield f"body-{operation}", bytes([1, selector]) + json.dumps(body, separators=(",", ":")).encode()
    yield "body-contact-numbers", bytes([1, 3]) + json.dumps(CONTACT_NUMBERS).encode()
    yield "body-list-blackout-lowercase", bytes([1, 4]) + json.dumps({
        "targetlistids": ["1"], "overridetemplatetargetlists": True,
        "blackoutwindow": {"utcoffset": "+0545", "windowstart": "0000", "windowend": "2359"}}).encode()


def main():
    corpus = HERE / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir()
    for name, data in [*raw_seeds(), *body_seeds()]:
        (corpus / name).write_bytes(data)


if __name__ == "__main__":
    main()
