#!/usr/bin/env python3
"""Writes tests/contract/cases.json, the contract corpus of sfmc-relay's event bodies.

This script is the source of truth: edit it, then run
    python3 tests/contract/make_cases.py            # from the repository root
and commit both files.  tests/contract/check_schemas.py checks the corpus against
schemas/operations/*.schema.json with Python's jsonschema; the C++ tests check it
against the daemon's schema validator and body rules.

A case is
  {"name": unique string,
   "event": a complete event (the envelope is always valid against schemas/event.schema.json),
   "schema_valid": what a standard JSON Schema validator says of event["body"] against
                   schemas/operations/<operation>.schema.json,
   "schema_pointers": where the schema errors are, as JSON pointers into the EVENT ([] when valid),
   "errors": exactly the rule errors expected, [{"pointer", "message"}], in any order}.

schema_pointers convention: every pointer resolves in the event.  A value that breaks a
keyword (type, enum, minLength, maxItems, ...) is pointed at itself; an unknown member
(additionalProperties false) is pointed at itself, e.g. "/body/foo", although validators
report it at its parent object; a missing required member is pointed at the object that
lacks it, e.g. "/body/recipients/0".

Conventions of the rules (the C++ body rules) that the cases pin down:
  * MobileConnect keys match without regard to case; pointers spell the key as the event does.
  * Flags are true/false or "true"/"false"; an absent flag is false.
  * A value of the wrong type is the schema's problem: no rule fires because of it
    (an invalid flag never makes a rule fire; "UtcOffset": -500 is not "missing").
  * "Blank" is empty or white space only.
  * messageList: while IgnoreExclusionLists is true, "Exclusion list ids can't be specified ..."
    and "OverrideTemplateExclusionLists can't be true ..." replace "ExclusionListIds isn't
    applicable ..." and "Cannot override template exclusion lists ...".
  * Transactional: "recipients is required" / "recipient is required" only when the body has
    neither recipient nor recipients; the wrong one alone gives only "... is not allowed ...".
"""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = HERE / "cases.json"

SMS = "transactional.sms.send"
ONE = "transactional.sms.sendOne"
EMAIL = "transactional.email.send"
CONTACT = "mobileconnect.messageContact.send"
LIST = "mobileconnect.messageList.send"

cases = []


def add(name, event, errors=(), schema_pointers=None):
    """schema_pointers None: schema-valid; a list: schema-invalid at those pointers."""
    if any(c["name"] == name for c in cases):
        sys.exit(f"duplicate case name: {name}")
    invalid = schema_pointers is not None
    if invalid and not schema_pointers:
        sys.exit(f"{name}: a schema-invalid case needs its pointers")
    cases.append({
        "name": name,
        "event": event,
        "schema_valid": not invalid,
        "schema_pointers": list(schema_pointers or []),
        "errors": [{"pointer": p, "message": m} for p, m in errors],
    })


def sms(body):
    return {"operation": SMS, "body": body}


def one(body, key="f4fe74b7-c3c0-4e5a-9f49-b63a641109a2"):
    return {"operation": ONE, "messageKey": key, "body": body}


def email(body):
    return {"operation": EMAIL, "body": body}


def contact(body, message_id="MzA6Nzg6MA"):
    return {"operation": CONTACT, "messageId": message_id, "body": body}


def mlist(body, message_id="MTA6Nzg6MA"):
    return {"operation": LIST, "messageId": message_id, "body": body}


def r(to="15555551234", **kw):
    d = {"to": to, "contactKey": "Astro25"}
    d.update(kw)
    return d


def er(contact_key="astro-1", **kw):
    d = {"contactKey": contact_key, "to": contact_key + "@localhost"}
    d.update(kw)
    return d


def sub(i):
    return {"MobileNumber": "1555555%04d" % i, "SubscriberKey": "sub-%04d" % i}


# Seed 003's example media URL, with the documentation address 192.0.2.10 in place of its host.
CONTENT_URL = "http://192.0.2.10/lib/fe6d15707662057c7411/m/1/dj_CC_AUS.jpg"


def not_allowed(name, op, use):
    return f"{name} is not allowed on {op}: use {use}"


def dup(key):
    return f"messageKey {key} is used by more than one recipient"


# ===========================================================================
# (a) Every example request of the seeds, and every file of schemas/examples/
# ===========================================================================

add("seed001 example request (sendOne with subscriptions)", one({
    "definitionKey": "account-reset",
    "recipient": {"to": "15555551234", "contactKey": "Astro25",
                  "attributes": {"FirstName": "Astro", "password": "1234567890ab"}},
    "subscriptions": {"resubscribe": True}}))

add("seed003 example request 1 (mobileNumbers, PascalCase flags, ContentURL)", contact({
    "mobileNumbers": ["13175551212"],
    "Subscribe": True, "Resubscribe": True, "keyword": "JOINSMS",
    "Override": True, "messageText": "Welcome to Code@",
    "ContentURL": CONTENT_URL,
    "SendTime": "2012-10-05 20:01"}))

add("seed003 example request 2 (Subscribers with Attributes, string booleans)", contact({
    "Subscribers": [
        {"MobileNumber": "15555554410", "SubscriberKey": "ExampleSubKey1", "Attributes": {"FirstName": "Michael"}},
        {"MobileNumber": "15555552254", "SubscriberKey": "ExampleSubKey2", "Attributes": {"FirstName": "Kristen"}}],
    "Subscribe": "true", "Resubscribe": "true", "keyword": "JOINSMS",
    "Override": "false", "SendTime": "2012-10-05 20:01"}))

add("seed003 error example: the hyphenated number (keyword validity is SFMC's)", contact({
    "mobileNumbers": ["1-317-555-1212"], "Subscribe": True, "Resubscribe": True, "keyword": "TestKeyword"}),
    [("/body/mobileNumbers/0", "1-317-555-1212 is not a numeric string")])

for path in sorted((ROOT / "schemas" / "examples").glob("*.json")):
    add(f"schemas/examples/{path.name}", json.loads(path.read_text()))

# Requests built from the field tables of the routes whose seed has no example (000, 002, 004).
add("sms.send with every documented field", sms({
    "definitionKey": "order-shipped",
    "recipients": [r(messageKey="order-4711-sms-1", attributes={"FirstName": "Astro"}),
                   r(to="15555552345", contactKey="Codey", messageKey="order-4712-sms-1")],
    "subscriptions": {"resubscribe": False},
    "content": {"message": "Hi %%FirstName%%, your order has shipped."},
    "attributes": {"Campaign": "spring"}}))
add("sms.send minimal: definitionKey and one recipient with only to", sms({
    "definitionKey": "order-shipped", "recipients": [{"to": "15555551234"}]}))
add("sms.send recipients without messageKey are not compared", sms({
    "definitionKey": "order-shipped", "recipients": [r(), r(to="15555552345"), r(to="15555553456")]}))
add("sendOne minimal: definitionKey and recipient.to", one({
    "definitionKey": "account-reset", "recipient": {"to": "15555551234"}}))
add("sendOne with content.message", one({
    "definitionKey": "account-reset", "recipient": r(), "content": {"message": "Your code is 1234"}}))
add("email.send with every documented field", email({
    "definitionKey": "welcome-email",
    "recipients": [er(messageKey="welcome-astro-1", attributes={"FirstName": "Astro"}), er("codey-1")],
    "attributes": {"Campaign": "spring"}}))
add("email.send recipient with contactKey only (to is optional for email)", email({
    "definitionKey": "welcome-email", "recipients": [{"contactKey": "astro-1"}]}))
add("messageList with every documented field", mlist({
    "TargetListIds": ["1234", "5678"], "OverrideTemplateTargetLists": "true",
    "ExclusionListIds": ["9012"], "OverrideTemplateExclusionLists": True,
    "OverrideMessageText": "true", "MessageText": "Flash sale today",
    "blackoutWindow": {"UtcOffset": "-0500", "WindowStart": "2200", "WindowEnd": "0700"},
    "sendTime": "2012-10-17 17:01", "allowDuplication": True, "ContentURL": CONTENT_URL}))
add("messageList empty body: the message's own lists and text", mlist({}))
add("messageList IgnoreExclusionLists alone", mlist({"IgnoreExclusionLists": True}))

# ===========================================================================
# (c) Transactional rules
# ===========================================================================

body = {"definitionKey": "order-shipped", "recipient": r()}
add("sms.send with recipient instead of recipients", sms(body),
    [("/body/recipient", not_allowed("recipient", SMS, "recipients"))])
add("sms.send with both recipient and recipients", sms(dict(body, recipients=[r()])),
    [("/body/recipient", not_allowed("recipient", SMS, "recipients"))])
add("email.send with recipient instead of recipients", email({"definitionKey": "welcome-email", "recipient": er()}),
    [("/body/recipient", not_allowed("recipient", EMAIL, "recipients"))])
add("sendOne with recipients instead of recipient", one({"definitionKey": "account-reset", "recipients": [r()]}),
    [("/body/recipients", not_allowed("recipients", ONE, "recipient"))])
add("sendOne with both recipient and recipients", one({"definitionKey": "account-reset", "recipient": r(),
                                                        "recipients": [r()]}),
    [("/body/recipients", not_allowed("recipients", ONE, "recipient"))])
add("sms.send with neither recipients nor recipient", sms({"definitionKey": "order-shipped"}),
    [("/body", "recipients is required")])
add("email.send with neither recipients nor recipient", email({"definitionKey": "welcome-email"}),
    [("/body", "recipients is required")])
add("sendOne with neither recipient nor recipients", one({"definitionKey": "account-reset"}),
    [("/body", "recipient is required")])
add("sms.send duplicate messageKey reported on the second occurrence", sms({
    "definitionKey": "order-shipped",
    "recipients": [r(messageKey="a"), r(to="15555552345", messageKey="b"), r(to="15555553456", messageKey="a")]}),
    [("/body/recipients/2/messageKey", dup("a"))])
add("sms.send messageKey used three times: second and third reported", sms({
    "definitionKey": "order-shipped",
    "recipients": [r(messageKey="k-1"), r(messageKey="k-1"), r(messageKey="k-1")]}),
    [("/body/recipients/1/messageKey", dup("k-1")), ("/body/recipients/2/messageKey", dup("k-1"))])
add("sms.send two different duplicated keys", sms({
    "definitionKey": "order-shipped",
    "recipients": [r(messageKey="a"), r(messageKey="b"), r(messageKey="a"), r(messageKey="b"), r(messageKey="c")]}),
    [("/body/recipients/2/messageKey", dup("a")), ("/body/recipients/3/messageKey", dup("b"))])
add("email.send duplicate messageKey", email({
    "definitionKey": "welcome-email",
    "recipients": [er("astro-1", messageKey="welcome 1"), er("codey-1", messageKey="welcome 1")]}),
    [("/body/recipients/1/messageKey", dup("welcome 1"))])
add("messageKey comparison is case-sensitive", sms({
    "definitionKey": "order-shipped", "recipients": [r(messageKey="Order-1"), r(messageKey="order-1")]}))
add("sms.send with recipient and a duplicated key: both reported", sms({
    "definitionKey": "order-shipped", "recipient": r(),
    "recipients": [r(messageKey="x"), r(messageKey="x")]}),
    [("/body/recipient", not_allowed("recipient", SMS, "recipients")), ("/body/recipients/1/messageKey", dup("x"))])
add("email.send with three problems: recipient, and a key used three times", email({
    "definitionKey": "welcome-email", "recipient": er(),
    "recipients": [er("a-1", messageKey="k"), er("a-2", messageKey="k"), er("a-3", messageKey="k")]}),
    [("/body/recipient", not_allowed("recipient", EMAIL, "recipients")),
     ("/body/recipients/1/messageKey", dup("k")), ("/body/recipients/2/messageKey", dup("k"))])

# ===========================================================================
# (d) Transactional structure and boundaries
# ===========================================================================

add("messageKey of 100 characters", sms({"definitionKey": "d", "recipients": [r(messageKey="k" * 100)]}))
add("messageKey of 101 characters", sms({"definitionKey": "d", "recipients": [r(messageKey="k" * 101)]}),
    schema_pointers=["/body/recipients/0/messageKey"])
add("messageKey of 100 non-ASCII characters (length counts code points)",
    sms({"definitionKey": "d", "recipients": [r(messageKey="\u00e9" * 100)]}))
add("messageKey of 101 non-ASCII characters", sms({"definitionKey": "d", "recipients": [r(messageKey="\u00e9" * 101)]}),
    schema_pointers=["/body/recipients/0/messageKey"])
add("messageKey empty", sms({"definitionKey": "d", "recipients": [r(messageKey="")]}),
    schema_pointers=["/body/recipients/0/messageKey"])
add("email.send 2000 recipients (the limit)", email({
    "definitionKey": "welcome-email", "recipients": [er("c%04d" % i) for i in range(2000)]}))
add("email.send 2001 recipients", email({
    "definitionKey": "welcome-email", "recipients": [er("c%04d" % i) for i in range(2001)]}),
    schema_pointers=["/body/recipients"])
add("sms.send empty recipients array", sms({"definitionKey": "d", "recipients": []}),
    schema_pointers=["/body/recipients"])
add("sms.send recipients is an object, not an array", sms({"definitionKey": "d", "recipients": r()}),
    schema_pointers=["/body/recipients"])
add("sendOne recipient is an array", one({"definitionKey": "d", "recipient": [r()]}),
    schema_pointers=["/body/recipient"])
add("sms.send without definitionKey", sms({"recipients": [r()]}), schema_pointers=["/body"])
add("sendOne without definitionKey", one({"recipient": r()}), schema_pointers=["/body"])
add("email.send empty definitionKey", email({"definitionKey": "", "recipients": [er()]}),
    schema_pointers=["/body/definitionKey"])
add("sms.send definitionKey is a number", sms({"definitionKey": 42, "recipients": [r()]}),
    schema_pointers=["/body/definitionKey"])
add("sms.send unknown top-level field", sms({"definitionKey": "d", "recipients": [r()], "priority": "high"}),
    schema_pointers=["/body/priority"])
add("sms.send unknown recipient field", sms({"definitionKey": "d", "recipients": [r(email="a@localhost")]}),
    schema_pointers=["/body/recipients/0/email"])
add("sms.send recipient without to", sms({"definitionKey": "d", "recipients": [r(), {"contactKey": "Astro25"}]}),
    schema_pointers=["/body/recipients/1"])
add("sms.send recipient with empty to", sms({"definitionKey": "d", "recipients": [r(to="")]}),
    schema_pointers=["/body/recipients/0/to"])
add("sms.send phone number given as a JSON number", sms({"definitionKey": "d", "recipients": [r(to=15555551234)]}),
    schema_pointers=["/body/recipients/0/to"])
add("email.send recipient without contactKey", email({"definitionKey": "d", "recipients": [{"to": "astro@localhost"}]}),
    schema_pointers=["/body/recipients/0"])
add("sendOne recipient without to", one({"definitionKey": "d", "recipient": {"contactKey": "Astro25"}}),
    schema_pointers=["/body/recipient"])
add("sendOne recipient with a messageKey (the key is in the path)", one({
    "definitionKey": "d", "recipient": r(messageKey="k-1")}), schema_pointers=["/body/recipient/messageKey"])
add("sendOne top-level attributes (not documented for sendOne)", one({
    "definitionKey": "d", "recipient": r(), "attributes": {"a": "b"}}), schema_pointers=["/body/attributes"])
add("email.send subscriptions (not documented for email)", email({
    "definitionKey": "d", "recipients": [er()], "subscriptions": {"resubscribe": True}}),
    schema_pointers=["/body/subscriptions"])
add("email.send content (not documented for email)", email({
    "definitionKey": "d", "recipients": [er()], "content": {"message": "hi"}}), schema_pointers=["/body/content"])
add("sms.send subscriptions.resubscribe as a string", sms({
    "definitionKey": "d", "recipients": [r()], "subscriptions": {"resubscribe": "true"}}),
    schema_pointers=["/body/subscriptions/resubscribe"])
add("sms.send unknown field in content", sms({
    "definitionKey": "d", "recipients": [r()], "content": {"message": "hi", "media": "x"}}),
    schema_pointers=["/body/content/media"])
add("sms.send recipient attributes is a string", sms({"definitionKey": "d", "recipients": [r(attributes="FirstName=Astro")]}),
    schema_pointers=["/body/recipients/0/attributes"])
add("sms.send three schema problems in one body", sms({
    "definitionKey": "d",
    "recipients": [{"contactKey": "Astro25", "messageKey": "k" * 101, "channel": "sms"}]}),
    schema_pointers=["/body/recipients/0", "/body/recipients/0/messageKey", "/body/recipients/0/channel"])
add("sms.send schema problem and rule problem together", sms({
    "definitionKey": "d", "recipient": r(), "recipients": [r()], "foo": 1}),
    [("/body/recipient", not_allowed("recipient", SMS, "recipients"))], schema_pointers=["/body/foo"])

# ===========================================================================
# (b) messageContact error table, one row per case, and (d) its boundaries
# ===========================================================================

ZERO = "The count of mobile numbers or subscribers cannot be zero."
BOTH = "An array of mobile numbers and an array of subscribers cannot be provided at the same time."
SUBSCRIBER = "A subscriber object must have both a mobile number and subscriber key defined."
KW_BLANK = "Keyword cannot be blank when Subscribe or Resubscribe are true."
KW_NOT = "Keyword is not necessary when Subscribe and Resubscribe are false."
OVERRIDE_BLANK = "Cannot override message text with a blank message."
MT_NOT = "MessageText is not applicable when Override is false."
INVALID_PHONE = "Invalid phone number"
N = ["13175551212"]

add("messageContact no audience at all", contact({"Override": True, "messageText": "hi"}), [("/body", ZERO)])
add("messageContact empty mobileNumbers", contact({"mobileNumbers": []}), [("/body", ZERO)])
add("messageContact empty Subscribers", contact({"Subscribers": []}), [("/body", ZERO)])
add("messageContact mobileNumbers and Subscribers together", contact({"mobileNumbers": N, "Subscribers": [sub(1)]}),
    [("/body", BOTH)])
add("messageContact subscriber without SubscriberKey", contact({
    "Subscribers": [sub(1), {"MobileNumber": "15555550002"}]}), [("/body/Subscribers/1", SUBSCRIBER)])
add("messageContact subscriber without MobileNumber", contact({
    "Subscribers": [{"SubscriberKey": "sub-1", "Attributes": {"FirstName": "Michael"}}]}),
    [("/body/Subscribers/0", SUBSCRIBER)])
add("messageContact lowercase subscribers: pointer spells the key as given", contact({
    "subscribers": [{"mobileNumber": "15555550001"}]}), [("/body/subscribers/0", SUBSCRIBER)])
add("messageContact Subscribe true without keyword", contact({"mobileNumbers": N, "Subscribe": True}),
    [("/body", KW_BLANK)])
add("messageContact Resubscribe \"true\" with empty keyword", contact({"mobileNumbers": N, "Resubscribe": "true",
                                                                     "keyword": ""}), [("/body", KW_BLANK)])
add("messageContact subscribe true with white-space keyword", contact({"mobileNumbers": N, "subscribe": True,
                                                                      "keyword": "  "}), [("/body", KW_BLANK)])
add("messageContact keyword without Subscribe or Resubscribe", contact({"mobileNumbers": N, "keyword": "JOINSMS"}),
    [("/body/keyword", KW_NOT)])
add("messageContact Keyword with Subscribe \"false\" and Resubscribe false", contact({
    "mobileNumbers": N, "Subscribe": "false", "Resubscribe": False, "Keyword": "JOINSMS"}), [("/body/Keyword", KW_NOT)])
add("messageContact Override true without messageText", contact({"mobileNumbers": N, "Override": True}),
    [("/body", OVERRIDE_BLANK)])
add("messageContact Override \"true\" with empty messageText", contact({"mobileNumbers": N, "Override": "true",
                                                                       "messageText": ""}),
    [("/body/messageText", OVERRIDE_BLANK)])
add("messageContact override true with white-space MessageText", contact({"mobileNumbers": N, "override": True,
                                                                         "MessageText": " \t "}),
    [("/body/MessageText", OVERRIDE_BLANK)])
add("messageContact messageText without Override", contact({"mobileNumbers": N, "messageText": "Hi"}),
    [("/body/messageText", MT_NOT)])
add("messageContact MessageText with Override \"false\"", contact({"mobileNumbers": N, "Override": "false",
                                                                  "MessageText": "Hi"}), [("/body/MessageText", MT_NOT)])
add("messageContact number with hyphens", contact({"mobileNumbers": ["1-317-555-1212"]}),
    [("/body/mobileNumbers/0", "1-317-555-1212 is not a numeric string")])
add("messageContact number with parentheses and spaces", contact({"mobileNumbers": ["13175551212", "1 (317) 555-1212"]}),
    [("/body/mobileNumbers/1", "1 (317) 555-1212 is not a numeric string")])
add("messageContact empty number", contact({"mobileNumbers": [""]}), [("/body/mobileNumbers/0", INVALID_PHONE)])
add("messageContact number of 15 digits (the E.164 maximum)", contact({"mobileNumbers": ["123456789012345"]}))
add("messageContact number of 16 digits", contact({"mobileNumbers": ["1234567890123456"]}),
    [("/body/mobileNumbers/0", INVALID_PHONE)])
add("messageContact subscriber MobileNumber with hyphens", contact({
    "Subscribers": [{"MobileNumber": "1-317-555-1212", "SubscriberKey": "sub-1"}]}),
    [("/body/Subscribers/0/MobileNumber", "1-317-555-1212 is not a numeric string")])

# Blackout window and send time, seed-004 sentences in seed-003 voice.
NUMBERS = {"mobileNumbers": N}
BW = {"UtcOffset": "-0500", "WindowStart": "2200", "WindowEnd": "0700"}


def bw(**kw):
    d = dict(BW)
    for k, v in kw.items():
        if v is None:
            d.pop(k)
        else:
            d[k] = v
    return d


add("messageContact blackout window without UtcOffset", contact(dict(NUMBERS, blackoutWindow=bw(UtcOffset=None))),
    [("/body/blackoutWindow", "A UTC offset must be specified when using a blackout window.")])
add("messageContact blackout window UtcOffset without sign", contact(dict(NUMBERS, blackoutWindow=bw(UtcOffset="0500"))),
    [("/body/blackoutWindow/UtcOffset", "0500 is not a valid UTC offset.")])
add("messageContact blackout window without WindowStart", contact(dict(NUMBERS, blackoutWindow=bw(WindowStart=None))),
    [("/body/blackoutWindow", "A window start time must be specified when using a blackout window.")])
add("messageContact blackout window WindowStart 2400", contact(dict(NUMBERS, blackoutWindow=bw(WindowStart="2400"))),
    [("/body/blackoutWindow/WindowStart", "2400 is not a valid blackout window start time.")])
add("messageContact blackout window without WindowEnd", contact(dict(NUMBERS, blackoutWindow=bw(WindowEnd=None))),
    [("/body/blackoutWindow", "A window end time must be specified when using a blackout window.")])
add("messageContact blackout window WindowEnd 07:00", contact(dict(NUMBERS, blackoutWindow=bw(WindowEnd="07:00"))),
    [("/body/blackoutWindow/WindowEnd", "07:00 is not a valid blackout window end time.")])
add("messageContact empty BlackoutWindow object: three sentences", contact(dict(NUMBERS, BlackoutWindow={})),
    [("/body/BlackoutWindow", "A UTC offset must be specified when using a blackout window."),
     ("/body/BlackoutWindow", "A window start time must be specified when using a blackout window."),
     ("/body/BlackoutWindow", "A window end time must be specified when using a blackout window.")])
add("messageContact UtcOffset +1400 is valid", contact(dict(NUMBERS, blackoutWindow=bw(UtcOffset="+1400"),
                                                                     SendTime="2012-10-05 20:01")))
add("messageContact UtcOffset +0545 valid, window 0000-2359", contact(dict(NUMBERS, blackoutWindow=bw(
    UtcOffset="+0545", WindowStart="0000", WindowEnd="2359"))))
add("messageContact UtcOffset +1500", contact(dict(NUMBERS, blackoutWindow=bw(UtcOffset="+1500"))),
    [("/body/blackoutWindow/UtcOffset", "+1500 is not a valid UTC offset.")])
add("messageContact UtcOffset +0510 (minutes not a quarter hour)", contact(dict(NUMBERS, blackoutWindow=bw(UtcOffset="+0510"))),
    [("/body/blackoutWindow/UtcOffset", "+0510 is not a valid UTC offset.")])
add("messageContact UtcOffset -05:00", contact(dict(NUMBERS, blackoutWindow=bw(UtcOffset="-05:00"))),
    [("/body/blackoutWindow/UtcOffset", "-05:00 is not a valid UTC offset.")])
add("messageContact UtcOffset given as a number is a schema problem only", contact(dict(NUMBERS,
                                                                                      blackoutWindow=bw(UtcOffset=-500))),
    schema_pointers=["/body/blackoutWindow/UtcOffset"])
add("messageContact lowerCamel blackout window members", contact(dict(NUMBERS, blackoutWindow={
    "utcOffset": "+0530", "windowStart": "2300", "windowEnd": "0600"})))
add("messageContact unknown member in blackout window", contact(dict(NUMBERS, blackoutWindow=bw(Timezone="EST"))),
    schema_pointers=["/body/blackoutWindow/Timezone"])

for bad in ["2012-13-05 20:01", "2012-02-30 10:00", "2012-10-05 24:00", "2012-10-05 20:01:00", "2013-02-29 10:00",
            "2012-10-5 20:01", "2012-10-05T20:01"]:
    add(f"messageContact SendTime {bad}", contact(dict(NUMBERS, SendTime=bad)),
        [("/body/SendTime", f"{bad} is not a valid send time (yyyy-MM-dd HH:mm).")])
add("messageContact SendTime 2012-02-29 23:59 (leap day)", contact(dict(NUMBERS, SendTime="2012-02-29 23:59")))
add("messageContact SendTime 2000-02-29 00:00 (leap century)", contact(dict(NUMBERS, sendTime="2000-02-29 00:00")))
add("messageContact sendTime 1900-02-29 10:00 (not a leap year)", contact(dict(NUMBERS, sendTime="1900-02-29 10:00")),
    [("/body/sendTime", "1900-02-29 10:00 is not a valid send time (yyyy-MM-dd HH:mm).")])

# Spellings and booleans.
add("messageContact all lowerCamel (the field table's spelling)", contact({
    "mobileNumbers": N, "subscribe": True, "resubscribe": False, "keyword": "JOINSMS", "override": True,
    "messageText": "Hi", "blackoutWindow": BW, "sendTime": "2012-10-17 17:01", "contentURL": CONTENT_URL}))
add("messageContact all PascalCase", contact({
    "MobileNumbers": N, "Subscribe": "true", "Resubscribe": "false", "Keyword": "JOINSMS", "Override": "true",
    "MessageText": "Hi", "BlackoutWindow": BW, "SendTime": "2012-10-17 17:01", "ContentURL": CONTENT_URL}))
add("messageContact lowerCamel subscriber members", contact({
    "subscribers": [{"mobileNumber": "15555554410", "subscriberKey": "k1", "attributes": {"FirstName": "Michael"}}]}))
add("messageContact all flags \"false\" and no keyword or text", contact({
    "mobileNumbers": N, "Subscribe": "false", "Resubscribe": "false", "Override": "false"}))
add("messageContact Subscribe \"yes\" is a schema problem only", contact({"mobileNumbers": N, "Subscribe": "yes"}),
    schema_pointers=["/body/Subscribe"])
add("messageContact Subscribe 1 is a schema problem only", contact({"mobileNumbers": N, "Subscribe": 1}),
    schema_pointers=["/body/Subscribe"])
add("messageContact Override \"TRUE\" (upper case) is a schema problem only", contact({
    "mobileNumbers": N, "Override": "TRUE", "messageText": "Hi"}), schema_pointers=["/body/Override"])
add("messageContact number given as a JSON number", contact({"mobileNumbers": [13175551212]}),
    schema_pointers=["/body/mobileNumbers/0"])
add("messageContact mobileNumbers given as a string", contact({"mobileNumbers": "13175551212", "Subscribers": [sub(1)]}),
    schema_pointers=["/body/mobileNumbers"])
add("messageContact ContentURL given as a number", contact({"mobileNumbers": N, "ContentURL": 42}),
    schema_pointers=["/body/ContentURL"])
add("messageContact SendTime given as a number", contact({"mobileNumbers": N, "SendTime": 201210052001}),
    schema_pointers=["/body/SendTime"])
add("messageContact unknown field", contact({"mobileNumbers": N, "Priority": "high"}),
    schema_pointers=["/body/Priority"])
add("messageContact TargetListIds belongs to messageList", contact({"mobileNumbers": N, "TargetListIds": ["1"]}),
    schema_pointers=["/body/TargetListIds"])
add("messageContact unknown subscriber member", contact({"Subscribers": [dict(sub(1), Email="a@localhost")]}),
    schema_pointers=["/body/Subscribers/0/Email"])
add("messageContact subscriber Attributes as an array", contact({"Subscribers": [dict(sub(1), Attributes=[])]}),
    schema_pointers=["/body/Subscribers/0/Attributes"])
add("messageContact 250 Subscribers (the limit)", contact({"Subscribers": [sub(i) for i in range(250)]}))
add("messageContact 251 Subscribers", contact({"Subscribers": [sub(i) for i in range(251)]}),
    schema_pointers=["/body/Subscribers"])

# Several problems at once.
add("messageContact five problems", contact({
    "mobileNumbers": ["1-317-555-1212", "", "13175551212"], "Subscribe": True, "Override": True,
    "SendTime": "2012-13-05 20:01"}),
    [("/body/mobileNumbers/0", "1-317-555-1212 is not a numeric string"),
     ("/body/mobileNumbers/1", INVALID_PHONE),
     ("/body", KW_BLANK), ("/body", OVERRIDE_BLANK),
     ("/body/SendTime", "2012-13-05 20:01 is not a valid send time (yyyy-MM-dd HH:mm).")])
add("messageContact both audiences, a bad number and an incomplete subscriber", contact({
    "mobileNumbers": ["1-317"], "Subscribers": [sub(1), {"SubscriberKey": "sub-2"}]}),
    [("/body", BOTH), ("/body/mobileNumbers/0", "1-317 is not a numeric string"), ("/body/Subscribers/1", SUBSCRIBER)])
add("messageContact keyword and messageText without their flags, bad window", contact({
    "mobileNumbers": N, "keyword": "JOINSMS", "messageText": "Hi", "blackoutWindow": bw(WindowStart="9999")}),
    [("/body/keyword", KW_NOT), ("/body/messageText", MT_NOT),
     ("/body/blackoutWindow/WindowStart", "9999 is not a valid blackout window start time.")])
add("messageContact schema and rule problems together", contact({"Subscribers": [{"MobileNumber": "15555550001",
                                                                                  "Nickname": "Mike"}]}),
    [("/body/Subscribers/0", SUBSCRIBER)], schema_pointers=["/body/Subscribers/0/Nickname"])

# ===========================================================================
# (b) messageList error table, one row per case
# ===========================================================================

T_ZERO = "The count of Target List IDs can't be zero."
T_NA = "TargetListIds isn't applicable when OverrideTemplateTargetLists is false."
T_NONE = "Cannot override template target lists when no target list ids are specified."
E_ZERO = "The count of Exclusion List IDs can't be zero."
E_NA = "ExclusionListIds isn't applicable when OverrideTemplateExclusionLists is false."
E_NONE = "Cannot override template exclusion lists when no exclusion list ids are specified."
E_IGNORED = "Exclusion list ids can't be specified when IgnoreExclusionLists is true."
E_OVERRIDE_IGNORED = "OverrideTemplateExclusionLists can't be true when IgnoreExclusionLists is true."
L_OVERRIDE_BLANK = "Cannot override message text with a blank message."
L_MT_NOT = "MessageText isn't applicable when OverrideMessageText is false."

add("messageList empty TargetListIds", mlist({"TargetListIds": [], "OverrideTemplateTargetLists": True}),
    [("/body/TargetListIds", T_ZERO)])
add("messageList TargetListIds without OverrideTemplateTargetLists", mlist({"TargetListIds": ["1234"]}),
    [("/body/TargetListIds", T_NA)])
add("messageList targetListIds with overrideTemplateTargetLists \"false\"", mlist({
    "targetListIds": ["1234"], "overrideTemplateTargetLists": "false"}), [("/body/targetListIds", T_NA)])
add("messageList OverrideTemplateTargetLists without TargetListIds", mlist({"OverrideTemplateTargetLists": "true"}),
    [("/body", T_NONE)])
add("messageList empty ExclusionListIds", mlist({"ExclusionListIds": []}), [("/body/ExclusionListIds", E_ZERO)])
add("messageList ExclusionListIds with OverrideTemplateExclusionLists false", mlist({
    "ExclusionListIds": ["9012"], "OverrideTemplateExclusionLists": False}), [("/body/ExclusionListIds", E_NA)])
add("messageList OverrideTemplateExclusionLists without ExclusionListIds", mlist({"OverrideTemplateExclusionLists": True}),
    [("/body", E_NONE)])
add("messageList ExclusionListIds with IgnoreExclusionLists true", mlist({
    "ExclusionListIds": ["9012"], "IgnoreExclusionLists": True}), [("/body/ExclusionListIds", E_IGNORED)])
add("messageList OverrideTemplateExclusionLists with IgnoreExclusionLists \"true\"", mlist({
    "OverrideTemplateExclusionLists": "true", "IgnoreExclusionLists": "true"}),
    [("/body/OverrideTemplateExclusionLists", E_OVERRIDE_IGNORED)])
add("messageList IgnoreExclusionLists with exclusion ids and override flag: both sentences", mlist({
    "ExclusionListIds": ["9012"], "OverrideTemplateExclusionLists": True, "ignoreExclusionLists": True}),
    [("/body/ExclusionListIds", E_IGNORED), ("/body/OverrideTemplateExclusionLists", E_OVERRIDE_IGNORED)])
add("messageList OverrideMessageText true without MessageText", mlist({"OverrideMessageText": True}),
    [("/body", L_OVERRIDE_BLANK)])
add("messageList OverrideMessageText \"true\" with empty MessageText", mlist({"OverrideMessageText": "true",
                                                                             "MessageText": ""}),
    [("/body/MessageText", L_OVERRIDE_BLANK)])
add("messageList MessageText without OverrideMessageText", mlist({"MessageText": "Flash sale"}),
    [("/body/MessageText", L_MT_NOT)])
add("messageList messageText with overrideMessageText false", mlist({"messageText": "Flash sale",
                                                                     "overrideMessageText": False}),
    [("/body/messageText", L_MT_NOT)])
add("messageList blackout window without UtcOffset", mlist({"blackoutWindow": bw(UtcOffset=None)}),
    [("/body/blackoutWindow", "A UTC offset must be specified when using a blackout window.")])
add("messageList blackout window UtcOffset -1530", mlist({"blackoutWindow": bw(UtcOffset="-1530")}),
    [("/body/blackoutWindow/UtcOffset", "-1530 isn't a valid UTC offset.")])
add("messageList blackout window without WindowStart", mlist({"blackoutWindow": bw(WindowStart=None)}),
    [("/body/blackoutWindow", "A window start time must be specified when using a blackout window.")])
add("messageList blackout window WindowStart 2260", mlist({"blackoutWindow": bw(WindowStart="2260")}),
    [("/body/blackoutWindow/WindowStart", "2260 isn't a valid blackout window start time.")])
add("messageList blackout window with empty WindowEnd", mlist({"BlackoutWindow": bw(WindowEnd="")}),
    [("/body/BlackoutWindow", "A window end time must be specified when using a blackout window.")])
add("messageList blackout window WindowEnd 700", mlist({"blackoutWindow": bw(WindowEnd="700")}),
    [("/body/blackoutWindow/WindowEnd", "700 isn't a valid blackout window end time.")])
for bad in ["2012-13-05 20:01", "2012-02-30 10:00", "2012-10-05 24:00", "2012-10-05 20:01:00"]:
    add(f"messageList sendTime {bad}", mlist({"sendTime": bad}),
        [("/body/sendTime", f"{bad} isn't a valid send time (yyyy-MM-dd HH:mm).")])
add("messageList SendTime (PascalCase) 2012-10-17 17:60", mlist({"SendTime": "2012-10-17 17:60"}),
    [("/body/SendTime", "2012-10-17 17:60 isn't a valid send time (yyyy-MM-dd HH:mm).")])

add("messageList other-case spelling of every field", mlist({
    "targetListIds": ["1"], "overrideTemplateTargetLists": True, "exclusionListIds": ["2"],
    "overrideTemplateExclusionLists": "true", "overrideMessageText": True, "messageText": "Hi",
    "BlackoutWindow": {"utcOffset": "+0000", "windowStart": "0100", "windowEnd": "0200"},
    "SendTime": "2024-12-31 23:59", "AllowDuplication": "false", "contentURL": CONTENT_URL}))
add("messageList IgnoreExclusionLists \"false\" with exclusion override", mlist({
    "ExclusionListIds": ["9012"], "OverrideTemplateExclusionLists": "true", "IgnoreExclusionLists": "false"}))
add("messageList list id given as a number", mlist({"TargetListIds": [1234], "OverrideTemplateTargetLists": True}),
    schema_pointers=["/body/TargetListIds/0"])
add("messageList IgnoreExclusionLists \"yes\" is a schema problem only", mlist({"IgnoreExclusionLists": "yes"}),
    schema_pointers=["/body/IgnoreExclusionLists"])
add("messageList keyword belongs to messageContact", mlist({"keyword": "JOINSMS"}), schema_pointers=["/body/keyword"])
add("messageList mobileNumbers belongs to messageContact", mlist({"mobileNumbers": N}),
    schema_pointers=["/body/mobileNumbers"])
add("messageList three problems", mlist({
    "TargetListIds": ["1234"], "OverrideMessageText": True, "sendTime": "2012-10-17 5:01 PM"}),
    [("/body/TargetListIds", T_NA), ("/body", L_OVERRIDE_BLANK),
     ("/body/sendTime", "2012-10-17 5:01 PM isn't a valid send time (yyyy-MM-dd HH:mm).")])
add("messageList five problems", mlist({
    "TargetListIds": [], "OverrideTemplateExclusionLists": True, "MessageText": "x",
    "blackoutWindow": {"UtcOffset": "+0500"}}),
    [("/body/TargetListIds", T_ZERO), ("/body", E_NONE), ("/body/MessageText", L_MT_NOT),
     ("/body/blackoutWindow", "A window start time must be specified when using a blackout window."),
     ("/body/blackoutWindow", "A window end time must be specified when using a blackout window.")])


def write(path):
    """One case per block, the event on one line, so the file stays readable and diffable."""
    out = ["["]
    for i, c in enumerate(cases):
        lines = ["  {" + f'"name": {json.dumps(c["name"], ensure_ascii=False)},',
                 f'   "event": {json.dumps(c["event"], ensure_ascii=False)},',
                 f'   "schema_valid": {json.dumps(c["schema_valid"])}, '
                 f'"schema_pointers": {json.dumps(c["schema_pointers"])},',
                 f'   "errors": {json.dumps(c["errors"], ensure_ascii=False)}' + "}"]
        out.append("\n".join(lines) + ("," if i + 1 < len(cases) else ""))
    out.append("]")
    text = "\n".join(out) + "\n"
    assert json.loads(text) == cases
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write(OUT)
    per_op = {}
    for c in cases:
        per_op[c["event"]["operation"]] = per_op.get(c["event"]["operation"], 0) + 1
    print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}: "
          + ", ".join(f"{op} {n}" for op, n in sorted(per_op.items())))
