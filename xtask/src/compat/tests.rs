//! Every rule, as a before/after pair of a minimal spec with the findings it
//! must produce; then the report and the repository's own contract.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::rules::{Change, Effect, Impact, Side};
use super::walk::{Finding, Location, compare};
use super::*;
use crate::spec_file::workspace_root;

/// A minimal contract with something for every rule: a path-level parameter
/// from `components`, a query parameter, a request body, response headers,
/// error responses by `$ref`, objects open (`Thing`) and closed
/// (`ThingWrite`), schemas used both ways (`State`, `Label` through `allOf`,
/// and the recursive `Part`).
const BASE: &str = r##"
openapi: 3.0.3
info:
  title: Things
  version: 1.0.0
security:
  - bearer: []
paths:
  /things/{id}:
    parameters:
      - $ref: '#/components/parameters/Id'
    get:
      operationId: get_thing
      summary: Get a thing
      parameters:
        - in: query
          name: view
          schema:
            type: string
            enum: [brief, full]
            nullable: true
      responses:
        '200':
          description: The thing.
          headers:
            ETag:
              schema:
                type: string
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Thing'
        '404':
          $ref: '#/components/responses/Error'
    put:
      operationId: put_thing
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/ThingWrite'
      responses:
        '200':
          description: The thing as stored.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Thing'
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
  parameters:
    Id:
      in: path
      name: id
      required: true
      schema:
        type: string
        format: uuid
  responses:
    Error:
      description: An error.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Error'
  schemas:
    Thing:
      type: object
      required: [id, size, state, note]
      properties:
        id:
          type: string
          format: uuid
        size:
          type: integer
          format: int32
          minimum: 0
          maximum: 100
        state:
          $ref: '#/components/schemas/State'
        note:
          type: string
          nullable: true
        label:
          description: An optional label.
          type: string
          nullable: true
          allOf:
            - $ref: '#/components/schemas/Label'
        parts:
          type: array
          items:
            $ref: '#/components/schemas/Part'
    ThingWrite:
      type: object
      additionalProperties: false
      required: [size, state]
      properties:
        size:
          type: integer
          format: int32
          minimum: 0
          maximum: 100
        state:
          $ref: '#/components/schemas/State'
        note:
          type: string
          nullable: true
          default: null
        label:
          $ref: '#/components/schemas/Label'
        parts:
          type: array
          items:
            $ref: '#/components/schemas/Part'
    State:
      type: string
      enum: [idle, busy]
    Label:
      type: string
      minLength: 1
      maxLength: 64
      pattern: ^[a-z]+$
    Part:
      type: object
      additionalProperties: false
      required: [name]
      properties:
        name:
          type: string
        children:
          type: array
          items:
            $ref: '#/components/schemas/Part'
    Error:
      type: object
      required: [message]
      properties:
        message:
          type: string
"##;

/// One step of a patch: a JSON pointer and, to set, a YAML value (`-` as the
/// last step appends to an array).
enum Edit {
    Set(&'static str, &'static str),
    Remove(&'static str),
}

use Edit::{Remove, Set};

/// What a finding must be: rule, side, impact, and where (a pointer into the
/// current document, or into the released one when it ends in
/// ` (released)`).
type Expected = (&'static str, Option<Side>, Impact, &'static str);

struct Case {
    name: &'static str,
    /// Applied to the released document; most cases release [`BASE`].
    before: &'static [Edit],
    after: &'static [Edit],
    expected: &'static [Expected],
}

const REQ: Option<Side> = Some(Side::Request);
const RES: Option<Side> = Some(Side::Response);
const B: Impact = Impact::Breaking;
const C: Impact = Impact::Compatible;
const D: Impact = Impact::Documentation;

const CASES: &[Case] = &[
    // Operations.
    Case {
        name: "operation removed",
        before: &[],
        after: &[Remove("/paths/~1things~1{id}/put")],
        expected: &[(
            "operation-removed",
            None,
            B,
            "/paths/~1things~1{id}/put (released)",
        )],
    },
    Case {
        name: "operation added",
        before: &[],
        after: &[Set(
            "/paths/~1things",
            "{get: {operationId: list_things, responses: {'200': {description: ok}}}}",
        )],
        expected: &[("operation-added", None, C, "/paths/~1things/get")],
    },
    Case {
        name: "operation renamed",
        before: &[],
        after: &[Set("/paths/~1things~1{id}/get/operationId", "fetch_thing")],
        expected: &[(
            "operation-renamed",
            None,
            B,
            "/paths/~1things~1{id}/get/operationId",
        )],
    },
    Case {
        name: "an operation of a path item written as a $ref",
        before: &[
            Set(
                "/components/pathItems",
                "{Things: {get: {operationId: list_things, responses: {'200': {description: ok}}}}}",
            ),
            Set("/paths/~1things", "{$ref: '#/components/pathItems/Things'}"),
        ],
        after: &[
            Set(
                "/components/pathItems",
                "{Things: {get: {operationId: find_things, responses: {'200': {description: ok}}}}}",
            ),
            Set("/paths/~1things", "{$ref: '#/components/pathItems/Things'}"),
        ],
        expected: &[(
            "operation-renamed",
            None,
            B,
            "/components/pathItems/Things/get/operationId",
        )],
    },
    Case {
        name: "operation tags changed",
        before: &[Set("/paths/~1things~1{id}/get/tags", "[things]")],
        after: &[Set("/paths/~1things~1{id}/get/tags", "[items]")],
        expected: &[("tags-changed", None, B, "/paths/~1things~1{id}/get/tags")],
    },
    // Parameters.
    Case {
        name: "path parameter renamed",
        before: &[],
        after: &[Set("/components/parameters/Id/name", "thing_id")],
        expected: &[
            (
                "required-parameter-added",
                None,
                B,
                "/paths/~1things~1{id}/parameters/0",
            ),
            (
                "parameter-removed",
                None,
                B,
                "/paths/~1things~1{id}/parameters/0 (released)",
            ),
        ],
    },
    Case {
        name: "query parameter removed",
        before: &[],
        after: &[Remove("/paths/~1things~1{id}/get/parameters/0")],
        expected: &[(
            "parameter-removed",
            None,
            B,
            "/paths/~1things~1{id}/get/parameters/0 (released)",
        )],
    },
    Case {
        name: "optional parameter added",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/get/parameters/-",
            "{in: query, name: limit, schema: {type: integer}}",
        )],
        expected: &[(
            "optional-parameter-added",
            None,
            C,
            "/paths/~1things~1{id}/get/parameters/1",
        )],
    },
    Case {
        name: "required header parameter added",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/put/parameters",
            "[{in: header, name: X-Key, required: true, schema: {type: string}}]",
        )],
        expected: &[(
            "required-parameter-added",
            None,
            B,
            "/paths/~1things~1{id}/put/parameters/0",
        )],
    },
    Case {
        name: "parameter now required",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/get/parameters/0/required",
            "true",
        )],
        expected: &[(
            "parameter-now-required",
            None,
            B,
            "/paths/~1things~1{id}/get/parameters/0/required",
        )],
    },
    Case {
        name: "parameter now optional",
        before: &[Set(
            "/paths/~1things~1{id}/get/parameters/0/required",
            "true",
        )],
        after: &[],
        expected: &[(
            "parameter-now-optional",
            None,
            C,
            "/paths/~1things~1{id}/get/parameters/0/required",
        )],
    },
    Case {
        name: "parameter serialization changed",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/get/parameters/0/explode",
            "false",
        )],
        expected: &[(
            "parameter-serialization-changed",
            None,
            B,
            "/paths/~1things~1{id}/get/parameters/0/explode",
        )],
    },
    Case {
        name: "a query parameter's nullable is no change (a query string carries no null)",
        before: &[],
        after: &[Remove(
            "/paths/~1things~1{id}/get/parameters/0/schema/nullable",
        )],
        expected: &[],
    },
    Case {
        name: "but the rest of a query parameter's schema is compared",
        before: &[],
        after: &[
            Remove("/paths/~1things~1{id}/get/parameters/0/schema/nullable"),
            Set(
                "/paths/~1things~1{id}/get/parameters/0/schema/enum/-",
                "none",
            ),
        ],
        expected: &[(
            "enum-widened",
            REQ,
            C,
            "/paths/~1things~1{id}/get/parameters/0/schema/enum",
        )],
    },
    Case {
        name: "format of a shared path parameter changed",
        before: &[],
        after: &[Set("/components/parameters/Id/schema/format", "date-time")],
        expected: &[(
            "format-changed",
            None,
            B,
            "/components/parameters/Id/schema/format",
        )],
    },
    // Request bodies.
    Case {
        name: "request body now optional",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/put/requestBody/required",
            "false",
        )],
        expected: &[(
            "request-body-now-optional",
            None,
            C,
            "/paths/~1things~1{id}/put/requestBody/required",
        )],
    },
    Case {
        name: "request body now required",
        before: &[Set(
            "/paths/~1things~1{id}/put/requestBody/required",
            "false",
        )],
        after: &[],
        expected: &[(
            "request-body-now-required",
            None,
            B,
            "/paths/~1things~1{id}/put/requestBody/required",
        )],
    },
    Case {
        name: "required request body added",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/get/requestBody",
            "{required: true, content: {application/json: {schema: {type: object}}}}",
        )],
        expected: &[(
            "required-request-body-added",
            None,
            B,
            "/paths/~1things~1{id}/get/requestBody",
        )],
    },
    Case {
        name: "optional request body added",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/get/requestBody",
            "{content: {application/json: {schema: {type: object}}}}",
        )],
        expected: &[(
            "optional-request-body-added",
            None,
            C,
            "/paths/~1things~1{id}/get/requestBody",
        )],
    },
    Case {
        name: "request body removed",
        before: &[],
        after: &[Remove("/paths/~1things~1{id}/put/requestBody")],
        expected: &[(
            "request-body-removed",
            None,
            B,
            "/paths/~1things~1{id}/put/requestBody (released)",
        )],
    },
    Case {
        name: "request content type added",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/put/requestBody/content/application~1merge-patch+json",
            "{schema: {$ref: '#/components/schemas/ThingWrite'}}",
        )],
        expected: &[(
            "content-type-added",
            REQ,
            C,
            "/paths/~1things~1{id}/put/requestBody/content/application~1merge-patch+json",
        )],
    },
    Case {
        name: "request content type removed",
        before: &[Set(
            "/paths/~1things~1{id}/put/requestBody/content/application~1merge-patch+json",
            "{schema: {$ref: '#/components/schemas/ThingWrite'}}",
        )],
        after: &[],
        expected: &[(
            "content-type-removed",
            REQ,
            B,
            "/paths/~1things~1{id}/put/requestBody/content/application~1merge-patch+json (released)",
        )],
    },
    // Responses.
    Case {
        name: "response content type changed",
        before: &[],
        after: &[
            Remove("/paths/~1things~1{id}/get/responses/200/content/application~1json"),
            Set(
                "/paths/~1things~1{id}/get/responses/200/content/text~1plain",
                "{schema: {type: string}}",
            ),
        ],
        expected: &[
            (
                "content-type-added",
                RES,
                C,
                "/paths/~1things~1{id}/get/responses/200/content/text~1plain",
            ),
            (
                "content-type-removed",
                RES,
                B,
                "/paths/~1things~1{id}/get/responses/200/content/application~1json (released)",
            ),
        ],
    },
    Case {
        name: "success status changed",
        before: &[],
        after: &[
            Remove("/paths/~1things~1{id}/put/responses/200"),
            Set(
                "/paths/~1things~1{id}/put/responses/201",
                "{description: Created., content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}",
            ),
        ],
        expected: &[
            (
                "success-status-added",
                None,
                B,
                "/paths/~1things~1{id}/put/responses/201",
            ),
            (
                "status-removed",
                None,
                B,
                "/paths/~1things~1{id}/put/responses/200 (released)",
            ),
        ],
    },
    Case {
        name: "error status added",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/get/responses/429",
            "{$ref: '#/components/responses/Error'}",
        )],
        expected: &[(
            "error-status-added",
            None,
            C,
            "/paths/~1things~1{id}/get/responses/429",
        )],
    },
    // A status the HTTP server answers before any handler, with no body
    // (431 in openapi.yaml): what the response holds is not judged.
    Case {
        name: "error status without a body added",
        before: &[],
        after: &[
            Set(
                "/components/responses/TooLarge",
                "{description: Sent by the HTTP server, without a body.}",
            ),
            Set(
                "/paths/~1things~1{id}/put/responses/431",
                "{$ref: '#/components/responses/TooLarge'}",
            ),
        ],
        expected: &[(
            "error-status-added",
            None,
            C,
            "/paths/~1things~1{id}/put/responses/431",
        )],
    },
    Case {
        name: "error status removed",
        before: &[],
        after: &[Remove("/paths/~1things~1{id}/get/responses/404")],
        expected: &[(
            "status-removed",
            None,
            B,
            "/paths/~1things~1{id}/get/responses/404 (released)",
        )],
    },
    Case {
        name: "response header removed",
        before: &[],
        after: &[Remove(
            "/paths/~1things~1{id}/get/responses/200/headers/ETag",
        )],
        expected: &[(
            "response-header-removed",
            None,
            B,
            "/paths/~1things~1{id}/get/responses/200/headers/ETag (released)",
        )],
    },
    Case {
        name: "response header added",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/put/responses/200/headers",
            "{ETag: {schema: {type: string}}}",
        )],
        expected: &[(
            "response-header-added",
            None,
            C,
            "/paths/~1things~1{id}/put/responses/200/headers/ETag",
        )],
    },
    Case {
        name: "response header schema changed",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/get/responses/200/headers/ETag/schema/maxLength",
            "64",
        )],
        expected: &[(
            "maxLength-narrowed",
            RES,
            C,
            "/paths/~1things~1{id}/get/responses/200/headers/ETag/schema/maxLength",
        )],
    },
    Case {
        name: "response header now required",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/get/responses/200/headers/ETag/required",
            "true",
        )],
        expected: &[(
            "response-header-now-required",
            None,
            C,
            "/paths/~1things~1{id}/get/responses/200/headers/ETag/required",
        )],
    },
    Case {
        name: "response header now optional",
        before: &[Set(
            "/paths/~1things~1{id}/get/responses/200/headers/ETag/required",
            "true",
        )],
        after: &[],
        expected: &[(
            "response-header-now-optional",
            None,
            B,
            "/paths/~1things~1{id}/get/responses/200/headers/ETag/required",
        )],
    },
    Case {
        name: "responses by $refs with escaped fragments",
        before: &[
            Set(
                "/paths/~1things~1{id}/get/responses/404",
                "{$ref: '#/components/responses/%45rror'}",
            ),
            Set(
                "/components/responses/Gone~0for~1good",
                "{$ref: '#/components/responses/Error'}",
            ),
            Set(
                "/paths/~1things~1{id}/get/responses/410",
                "{$ref: '#/components/responses/Gone~0for~1good'}",
            ),
        ],
        after: &[
            Set(
                "/paths/~1things~1{id}/get/responses/404",
                "{$ref: '#/components/responses/%45rror'}",
            ),
            Set(
                "/components/responses/Gone~0for~1good",
                "{$ref: '#/components/responses/Error'}",
            ),
            Set(
                "/paths/~1things~1{id}/get/responses/410",
                "{$ref: '#/components/responses/Gone~0for~1good'}",
            ),
            Set(
                "/components/schemas/Error/properties/message/maxLength",
                "200",
            ),
        ],
        expected: &[(
            "maxLength-narrowed",
            RES,
            C,
            "/components/schemas/Error/properties/message/maxLength",
        )],
    },
    Case {
        name: "error body through a shared response changed",
        before: &[],
        after: &[Set(
            "/components/schemas/Error/properties/message/maxLength",
            "200",
        )],
        expected: &[(
            "maxLength-narrowed",
            RES,
            C,
            "/components/schemas/Error/properties/message/maxLength",
        )],
    },
    // Security.
    Case {
        name: "one operation takes another scheme",
        before: &[],
        after: &[
            Set(
                "/components/securitySchemes/key",
                "{type: apiKey, in: header, name: X-Api-Key}",
            ),
            Set("/paths/~1things~1{id}/get/security", "[{key: []}]"),
        ],
        expected: &[
            (
                "security-requirement-added",
                None,
                C,
                "/paths/~1things~1{id}/get/security",
            ),
            (
                "security-requirement-removed",
                None,
                B,
                "/paths/~1things~1{id}/get/security",
            ),
        ],
    },
    Case {
        name: "anonymous access added",
        before: &[],
        after: &[Set("/security/-", "{}")],
        expected: &[("security-requirement-added", None, C, "/security")],
    },
    Case {
        name: "authentication now needed",
        before: &[Remove("/security")],
        after: &[],
        expected: &[
            ("security-requirement-added", None, C, "/security"),
            ("security-requirement-removed", None, B, "/security"),
        ],
    },
    Case {
        name: "security scheme changed",
        before: &[],
        after: &[Set("/components/securitySchemes/bearer/scheme", "basic")],
        expected: &[(
            "security-scheme-changed",
            None,
            B,
            "/components/securitySchemes/bearer/scheme",
        )],
    },
    Case {
        name: "fewer scopes needed",
        before: &[
            Set(
                "/components/securitySchemes/oauth",
                "{type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://auth.example/token', scopes: {read: Read., write: Write.}}}}",
            ),
            Set("/security", "[{oauth: [read, write]}]"),
        ],
        after: &[
            Set(
                "/components/securitySchemes/oauth",
                "{type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://auth.example/token', scopes: {read: Read., write: Write.}}}}",
            ),
            Set("/security", "[{oauth: [read]}]"),
        ],
        expected: &[("security-scopes-reduced", None, C, "/security")],
    },
    Case {
        name: "more scopes needed",
        before: &[
            Set(
                "/components/securitySchemes/oauth",
                "{type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://auth.example/token', scopes: {read: Read., write: Write.}}}}",
            ),
            Set("/security", "[{oauth: [read]}]"),
        ],
        after: &[
            Set(
                "/components/securitySchemes/oauth",
                "{type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://auth.example/token', scopes: {read: Read., write: Write.}}}}",
            ),
            Set("/security", "[{oauth: [read, write]}]"),
        ],
        expected: &[
            ("security-requirement-added", None, C, "/security"),
            ("security-requirement-removed", None, B, "/security"),
        ],
    },
    // Properties.
    Case {
        name: "response property removed",
        before: &[],
        after: &[
            Remove("/components/schemas/Thing/properties/note"),
            Remove("/components/schemas/Thing/required/3"),
        ],
        expected: &[(
            "property-removed",
            RES,
            B,
            "/components/schemas/Thing/properties/note (released)",
        )],
    },
    Case {
        name: "request property removed from a closed object",
        before: &[],
        after: &[Remove("/components/schemas/ThingWrite/properties/note")],
        expected: &[(
            "property-removed",
            REQ,
            B,
            "/components/schemas/ThingWrite/properties/note (released)",
        )],
    },
    Case {
        name: "request property removed from an open object",
        before: &[Set(
            "/components/schemas/ThingWrite/additionalProperties",
            "true",
        )],
        after: &[
            Set(
                "/components/schemas/ThingWrite/additionalProperties",
                "true",
            ),
            Remove("/components/schemas/ThingWrite/properties/note"),
        ],
        expected: &[(
            "property-removed",
            REQ,
            C,
            "/components/schemas/ThingWrite/properties/note (released)",
        )],
    },
    Case {
        name: "optional request property added",
        before: &[],
        after: &[Set(
            "/components/schemas/ThingWrite/properties/color",
            "{type: string}",
        )],
        expected: &[(
            "property-added",
            REQ,
            C,
            "/components/schemas/ThingWrite/properties/color",
        )],
    },
    Case {
        name: "required request property added",
        before: &[],
        after: &[
            Set(
                "/components/schemas/ThingWrite/properties/color",
                "{type: string}",
            ),
            Set("/components/schemas/ThingWrite/required/-", "color"),
        ],
        expected: &[(
            "property-added",
            REQ,
            B,
            "/components/schemas/ThingWrite/properties/color",
        )],
    },
    Case {
        name: "response property added to an open object",
        before: &[Set(
            "/components/schemas/Thing/additionalProperties",
            "true",
        )],
        after: &[
            Set("/components/schemas/Thing/additionalProperties", "true"),
            Set(
                "/components/schemas/Thing/properties/color",
                "{type: string}",
            ),
        ],
        expected: &[(
            "property-added",
            RES,
            C,
            "/components/schemas/Thing/properties/color",
        )],
    },
    Case {
        name: "property added to a closed object used both ways",
        before: &[],
        after: &[Set(
            "/components/schemas/Part/properties/color",
            "{type: string}",
        )],
        expected: &[
            (
                "property-added",
                REQ,
                C,
                "/components/schemas/Part/properties/color",
            ),
            (
                "property-added",
                RES,
                B,
                "/components/schemas/Part/properties/color",
            ),
        ],
    },
    Case {
        name: "response property added to an object that does not say it is open",
        before: &[],
        after: &[Set(
            "/components/schemas/Thing/properties/color",
            "{type: string}",
        )],
        expected: &[(
            "property-added",
            RES,
            B,
            "/components/schemas/Thing/properties/color",
        )],
    },
    Case {
        name: "required response property added to an open object",
        before: &[Set(
            "/components/schemas/Thing/additionalProperties",
            "true",
        )],
        after: &[
            Set("/components/schemas/Thing/additionalProperties", "true"),
            Set(
                "/components/schemas/Thing/properties/color",
                "{type: string}",
            ),
            Set("/components/schemas/Thing/required/-", "color"),
        ],
        expected: &[(
            "property-added",
            RES,
            C,
            "/components/schemas/Thing/properties/color",
        )],
    },
    Case {
        name: "a required name without a property added to a request",
        before: &[],
        after: &[Set("/components/schemas/ThingWrite/required/-", "extra")],
        expected: &[(
            "property-added",
            REQ,
            B,
            "/components/schemas/ThingWrite/required/2",
        )],
    },
    Case {
        name: "a required name without a property removed from a response",
        before: &[Set("/components/schemas/Thing/required/-", "extra")],
        after: &[],
        expected: &[(
            "property-removed",
            RES,
            B,
            "/components/schemas/Thing/required/4 (released)",
        )],
    },
    Case {
        name: "a required name gets a property",
        before: &[Set("/components/schemas/ThingWrite/required/-", "extra")],
        after: &[
            Set("/components/schemas/ThingWrite/required/-", "extra"),
            Set(
                "/components/schemas/ThingWrite/properties/extra",
                "{type: string}",
            ),
        ],
        expected: &[(
            "type-narrowed",
            REQ,
            B,
            "/components/schemas/ThingWrite/properties/extra/type",
        )],
    },
    Case {
        name: "a property of an allOf member restated by the schema",
        before: &[
            Set(
                "/components/schemas/Coded",
                "{properties: {code: {type: integer}}}",
            ),
            Set(
                "/components/schemas/Error/allOf",
                "[{$ref: '#/components/schemas/Coded'}]",
            ),
            Set(
                "/components/schemas/Error/properties/code",
                "{description: What went wrong.}",
            ),
        ],
        after: &[
            Set(
                "/components/schemas/Coded",
                "{properties: {code: {type: string}}}",
            ),
            Set(
                "/components/schemas/Error/allOf",
                "[{$ref: '#/components/schemas/Coded'}]",
            ),
            Set(
                "/components/schemas/Error/properties/code",
                "{description: What went wrong.}",
            ),
        ],
        expected: &[(
            "type-changed",
            None,
            B,
            "/components/schemas/Coded/properties/code/type",
        )],
    },
    Case {
        name: "a read-only property removed matters only to responses",
        before: &[Set(
            "/components/schemas/Part/properties/id",
            "{type: string, readOnly: true}",
        )],
        after: &[],
        expected: &[(
            "property-removed",
            RES,
            B,
            "/components/schemas/Part/properties/id (released)",
        )],
    },
    Case {
        name: "a write-only property changed matters only to requests",
        before: &[Set(
            "/components/schemas/Part/properties/secret",
            "{type: string, writeOnly: true}",
        )],
        after: &[Set(
            "/components/schemas/Part/properties/secret",
            "{type: string, writeOnly: true, maxLength: 8}",
        )],
        expected: &[(
            "maxLength-narrowed",
            REQ,
            B,
            "/components/schemas/Part/properties/secret/maxLength",
        )],
    },
    Case {
        name: "a property made read-only is gone from requests",
        before: &[],
        after: &[Set(
            "/components/schemas/Part/properties/name/readOnly",
            "true",
        )],
        expected: &[(
            "property-removed",
            REQ,
            C,
            "/components/schemas/Part/properties/name",
        )],
    },
    Case {
        name: "request property now required",
        before: &[],
        after: &[Set("/components/schemas/ThingWrite/required/-", "note")],
        expected: &[(
            "property-now-required",
            REQ,
            B,
            "/components/schemas/ThingWrite/properties/note",
        )],
    },
    Case {
        name: "response property now optional",
        before: &[],
        after: &[Remove("/components/schemas/Thing/required/3")],
        expected: &[(
            "property-now-optional",
            RES,
            B,
            "/components/schemas/Thing/properties/note",
        )],
    },
    // Values.
    Case {
        name: "enum value removed from a schema used both ways",
        before: &[],
        after: &[Set("/components/schemas/State/enum", "[idle]")],
        expected: &[
            ("enum-narrowed", REQ, B, "/components/schemas/State/enum"),
            ("enum-narrowed", RES, C, "/components/schemas/State/enum"),
        ],
    },
    Case {
        name: "enum value added to a schema used both ways",
        before: &[],
        after: &[Set("/components/schemas/State/enum/-", "paused")],
        expected: &[
            ("enum-widened", RES, B, "/components/schemas/State/enum"),
            ("enum-widened", REQ, C, "/components/schemas/State/enum"),
        ],
    },
    Case {
        name: "type changed",
        before: &[],
        after: &[Set(
            "/components/schemas/Thing/properties/id/type",
            "integer",
        )],
        expected: &[(
            "type-changed",
            None,
            B,
            "/components/schemas/Thing/properties/id/type",
        )],
    },
    Case {
        name: "integer format widened both ways",
        before: &[],
        after: &[
            Set(
                "/components/schemas/ThingWrite/properties/size/format",
                "int64",
            ),
            Set("/components/schemas/Thing/properties/size/format", "int64"),
        ],
        expected: &[
            (
                "format-widened",
                RES,
                B,
                "/components/schemas/Thing/properties/size/format",
            ),
            (
                "format-widened",
                REQ,
                C,
                "/components/schemas/ThingWrite/properties/size/format",
            ),
        ],
    },
    Case {
        name: "request minimum raised",
        before: &[],
        after: &[Set(
            "/components/schemas/ThingWrite/properties/size/minimum",
            "1",
        )],
        expected: &[(
            "minimum-narrowed",
            REQ,
            B,
            "/components/schemas/ThingWrite/properties/size/minimum",
        )],
    },
    Case {
        name: "request maximum raised",
        before: &[],
        after: &[Set(
            "/components/schemas/ThingWrite/properties/size/maximum",
            "1000",
        )],
        expected: &[(
            "maximum-widened",
            REQ,
            C,
            "/components/schemas/ThingWrite/properties/size/maximum",
        )],
    },
    Case {
        name: "response maximum raised",
        before: &[],
        after: &[Set(
            "/components/schemas/Thing/properties/size/maximum",
            "1000",
        )],
        expected: &[(
            "maximum-widened",
            RES,
            B,
            "/components/schemas/Thing/properties/size/maximum",
        )],
    },
    Case {
        name: "response maximum lowered",
        before: &[],
        after: &[Set(
            "/components/schemas/Thing/properties/size/maximum",
            "50",
        )],
        expected: &[(
            "maximum-narrowed",
            RES,
            C,
            "/components/schemas/Thing/properties/size/maximum",
        )],
    },
    Case {
        name: "maxLength lowered in a schema reached through allOf",
        before: &[],
        after: &[Set("/components/schemas/Label/maxLength", "32")],
        expected: &[
            (
                "maxLength-narrowed",
                REQ,
                B,
                "/components/schemas/Label/maxLength",
            ),
            (
                "maxLength-narrowed",
                RES,
                C,
                "/components/schemas/Label/maxLength",
            ),
        ],
    },
    Case {
        name: "type changed in an allOf member behind a restated type",
        before: &[],
        after: &[Set("/components/schemas/Label/type", "integer")],
        expected: &[
            ("type-changed", None, B, "/components/schemas/Label/type"),
            ("unclassified", None, B, "/components/schemas/Label/type"),
        ],
    },
    Case {
        name: "pattern changed",
        before: &[],
        after: &[Set("/components/schemas/Label/pattern", "'^[a-z0-9]+$'")],
        expected: &[(
            "pattern-changed",
            None,
            B,
            "/components/schemas/Label/pattern",
        )],
    },
    Case {
        name: "nullable request field becomes non-null",
        before: &[],
        after: &[Remove(
            "/components/schemas/ThingWrite/properties/note/nullable",
        )],
        expected: &[(
            "nullable-narrowed",
            REQ,
            B,
            "/components/schemas/ThingWrite/properties/note/nullable",
        )],
    },
    Case {
        name: "non-null response field becomes nullable",
        before: &[],
        after: &[Set(
            "/components/schemas/Thing/properties/size/nullable",
            "true",
        )],
        expected: &[(
            "nullable-widened",
            RES,
            B,
            "/components/schemas/Thing/properties/size/nullable",
        )],
    },
    Case {
        name: "additionalProperties {} is true, absent is false",
        before: &[Set(
            "/components/schemas/Thing/additionalProperties",
            "true",
        )],
        after: &[
            Set("/components/schemas/Thing/additionalProperties", "{}"),
            Set("/components/schemas/Error/additionalProperties", "false"),
        ],
        expected: &[],
    },
    Case {
        name: "a response object said to be open",
        before: &[],
        after: &[Set(
            "/components/schemas/Thing/additionalProperties",
            "true",
        )],
        expected: &[(
            "additionalProperties-widened",
            RES,
            B,
            "/components/schemas/Thing/additionalProperties",
        )],
    },
    Case {
        name: "a change behind not",
        before: &[
            Set(
                "/components/schemas/Reserved",
                "{type: string, enum: [admin]}",
            ),
            Set(
                "/components/schemas/ThingWrite/properties/owner",
                "{type: string, not: {$ref: '#/components/schemas/Reserved'}}",
            ),
        ],
        after: &[
            Set(
                "/components/schemas/Reserved",
                "{type: string, enum: [admin, root]}",
            ),
            Set(
                "/components/schemas/ThingWrite/properties/owner",
                "{type: string, not: {$ref: '#/components/schemas/Reserved'}}",
            ),
        ],
        expected: &[(
            "not-changed",
            None,
            B,
            "/components/schemas/ThingWrite/properties/owner/not",
        )],
    },
    Case {
        name: "request object opened, response object closed",
        before: &[Set(
            "/components/schemas/Thing/additionalProperties",
            "true",
        )],
        after: &[
            Set(
                "/components/schemas/ThingWrite/additionalProperties",
                "true",
            ),
            Set("/components/schemas/Thing/additionalProperties", "false"),
        ],
        expected: &[
            (
                "additionalProperties-narrowed",
                RES,
                C,
                "/components/schemas/Thing/additionalProperties",
            ),
            (
                "additionalProperties-widened",
                REQ,
                C,
                "/components/schemas/ThingWrite/additionalProperties",
            ),
        ],
    },
    Case {
        name: "request default changed",
        before: &[],
        after: &[Set(
            "/components/schemas/ThingWrite/properties/note/default",
            "none",
        )],
        expected: &[(
            "default-changed",
            None,
            B,
            "/components/schemas/ThingWrite/properties/note/default",
        )],
    },
    Case {
        name: "response default changed",
        before: &[],
        after: &[Set(
            "/components/schemas/Thing/properties/label/default",
            "none",
        )],
        expected: &[(
            "default-changed",
            None,
            B,
            "/components/schemas/Thing/properties/label/default",
        )],
    },
    Case {
        name: "response items unconstrained",
        before: &[],
        after: &[Remove("/components/schemas/Thing/properties/parts/items")],
        expected: &[(
            "items-widened",
            RES,
            B,
            "/components/schemas/Thing/properties/parts/items",
        )],
    },
    Case {
        name: "variant added to a response oneOf",
        before: &[Set(
            "/components/schemas/Thing/properties/id",
            "{oneOf: [{type: string, format: uuid}]}",
        )],
        after: &[Set(
            "/components/schemas/Thing/properties/id",
            "{oneOf: [{type: string, format: uuid}, {type: integer}]}",
        )],
        expected: &[(
            "oneOf-widened",
            RES,
            B,
            "/components/schemas/Thing/properties/id/oneOf",
        )],
    },
    Case {
        name: "oneOf variants reordered",
        before: &[Set(
            "/components/schemas/Thing/properties/id",
            "{oneOf: [{$ref: '#/components/schemas/State'}, {type: string, format: uuid}]}",
        )],
        after: &[Set(
            "/components/schemas/Thing/properties/id",
            "{oneOf: [{type: string, format: uuid}, {$ref: '#/components/schemas/State'}]}",
        )],
        expected: &[],
    },
    Case {
        name: "variant removed from a request anyOf",
        before: &[Set(
            "/components/schemas/ThingWrite/properties/label",
            "{anyOf: [{$ref: '#/components/schemas/Label'}, {type: integer}]}",
        )],
        after: &[Set(
            "/components/schemas/ThingWrite/properties/label",
            "{anyOf: [{type: integer}]}",
        )],
        expected: &[(
            "anyOf-narrowed",
            REQ,
            B,
            "/components/schemas/ThingWrite/properties/label/anyOf",
        )],
    },
    Case {
        name: "a change in a recursive schema is found once per side",
        before: &[],
        after: &[Set(
            "/components/schemas/Part/properties/name/minLength",
            "1",
        )],
        expected: &[
            (
                "minLength-narrowed",
                REQ,
                B,
                "/components/schemas/Part/properties/name/minLength",
            ),
            (
                "minLength-narrowed",
                RES,
                C,
                "/components/schemas/Part/properties/name/minLength",
            ),
        ],
    },
    // Prose, notices and the unknown.
    Case {
        name: "descriptions and summaries",
        before: &[],
        after: &[
            Set(
                "/components/schemas/Thing/properties/size/description",
                "Size in units.",
            ),
            Set("/paths/~1things~1{id}/get/summary", "Fetch a thing"),
        ],
        expected: &[
            (
                "documentation-changed",
                None,
                D,
                "/components/schemas/Thing/properties/size/description",
            ),
            (
                "documentation-changed",
                None,
                D,
                "/paths/~1things~1{id}/get/summary",
            ),
        ],
    },
    Case {
        name: "schema title changed",
        before: &[],
        after: &[Set(
            "/components/schemas/Thing/properties/size/title",
            "Size",
        )],
        expected: &[(
            "title-changed",
            None,
            B,
            "/components/schemas/Thing/properties/size/title",
        )],
    },
    Case {
        name: "operation deprecated",
        before: &[],
        after: &[Set("/paths/~1things~1{id}/get/deprecated", "true")],
        expected: &[(
            "deprecation-changed",
            None,
            C,
            "/paths/~1things~1{id}/get/deprecated",
        )],
    },
    Case {
        name: "servers of a path",
        before: &[],
        after: &[Set(
            "/paths/~1things~1{id}/servers",
            "[{url: 'https://elsewhere.example'}]",
        )],
        expected: &[("unclassified", None, B, "/paths/~1things~1{id}/servers")],
    },
    Case {
        name: "a keyword no rule knows",
        before: &[],
        after: &[Set(
            "/components/schemas/Thing/properties/id/x-rust-type",
            "Uuid",
        )],
        expected: &[(
            "unclassified",
            None,
            B,
            "/components/schemas/Thing/properties/id/x-rust-type",
        )],
    },
    // No change.
    Case {
        name: "a referenced schema written inline instead",
        before: &[],
        after: &[Set(
            "/components/schemas/Thing/properties/state",
            "{type: string, enum: [busy, idle]}",
        )],
        expected: &[],
    },
    Case {
        name: "a $ref wrapped in allOf to describe it",
        before: &[],
        after: &[Set(
            "/components/schemas/ThingWrite/properties/label",
            "{description: A label., allOf: [{$ref: '#/components/schemas/Label'}]}",
        )],
        expected: &[(
            "documentation-changed",
            None,
            D,
            "/components/schemas/ThingWrite/properties/label/description",
        )],
    },
    Case {
        name: "defaults written out",
        before: &[],
        after: &[
            Set("/paths/~1things~1{id}/get/parameters/0/style", "form"),
            Set("/paths/~1things~1{id}/get/parameters/0/explode", "true"),
            Set("/paths/~1things~1{id}/get/parameters/0/required", "false"),
            Set("/paths/~1things~1{id}/get/deprecated", "false"),
            Set("/components/parameters/Id/style", "simple"),
            Set(
                "/components/schemas/Thing/properties/size/nullable",
                "false",
            ),
            Set(
                "/paths/~1things~1{id}/get/responses/200/headers/ETag/required",
                "false",
            ),
        ],
        expected: &[],
    },
    Case {
        name: "a schema that no operation uses",
        before: &[],
        after: &[Set("/components/schemas/Unused", "{type: string}")],
        expected: &[],
    },
];

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

fn apply(doc: &mut Value, edit: &Edit) {
    let pointer = match edit {
        Set(pointer, _) | Remove(pointer) => *pointer,
    };
    let (parent, last) = pointer.rsplit_once('/').expect("a pointer below the root");
    let key = unescape(last);
    let parent = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{pointer}: no parent"));
    match edit {
        Set(_, yaml) => {
            let value: Value = serde_norway::from_str(yaml).expect("a YAML value");
            match parent {
                Value::Object(object) => {
                    object.insert(key, value);
                }
                Value::Array(items) if key == "-" => items.push(value),
                Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
                _ => panic!("{pointer}: parent is no container"),
            }
        }
        Remove(_) => {
            let removed = match parent {
                Value::Object(object) => object.remove(&key),
                Value::Array(items) => Some(items.remove(key.parse::<usize>().unwrap())),
                _ => None,
            };
            assert!(removed.is_some(), "{pointer}: nothing to remove");
        }
    }
}

fn patched(edits: &[Edit]) -> Value {
    let mut doc: Value = serde_norway::from_str(BASE).unwrap();
    for edit in edits {
        apply(&mut doc, edit);
    }
    doc
}

fn shown(location: &Location) -> String {
    match location {
        Location::Current(pointer) => pointer.clone(),
        Location::Released(pointer) => format!("{pointer} (released)"),
    }
}

fn summary(findings: &[Finding]) -> Vec<(String, Option<Side>, Impact, String)> {
    let mut summary: Vec<_> = findings
        .iter()
        .map(|f| (f.change.rule().id, f.side, f.impact().0, shown(&f.location)))
        .collect();
    summary.sort();
    summary
}

/// The kind of a change, as far as its rule goes: a constraint's keyword
/// only names it. The match has no wildcard, so that a new variant does not
/// compile until it is named here (and then listed in
/// [`every_kind_of_change`], which the tests hold to what the cases report).
fn kind(change: Change) -> Change {
    match change {
        Change::Constraint { effect, .. } => Change::Constraint {
            keyword: "any",
            effect,
        },
        Change::OperationRemoved
        | Change::OperationAdded
        | Change::OperationRenamed
        | Change::TagsChanged
        | Change::ParameterRemoved
        | Change::ParameterAdded { .. }
        | Change::ParameterRequirement { .. }
        | Change::ParameterSerialization
        | Change::RequestBodyAdded { .. }
        | Change::RequestBodyRemoved
        | Change::RequestBodyRequirement { .. }
        | Change::ContentTypeAdded
        | Change::ContentTypeRemoved
        | Change::StatusAdded { .. }
        | Change::StatusRemoved
        | Change::ResponseHeaderAdded
        | Change::ResponseHeaderRemoved
        | Change::ResponseHeaderRequirement { .. }
        | Change::SecurityRequirementAdded
        | Change::SecurityRequirementRemoved
        | Change::SecurityScopesReduced
        | Change::SecuritySchemeChanged
        | Change::PropertyAdded { .. }
        | Change::PropertyRemoved { .. }
        | Change::PropertyRequirement { .. }
        | Change::DefaultChanged
        | Change::TitleChanged
        | Change::Deprecation
        | Change::Documentation
        | Change::Unclassified => change,
    }
}

/// One change of every kind: each variant with each value of its flags.
fn every_kind_of_change() -> Vec<Change> {
    let mut kinds = vec![
        Change::OperationRemoved,
        Change::OperationAdded,
        Change::OperationRenamed,
        Change::TagsChanged,
        Change::ParameterRemoved,
        Change::ParameterSerialization,
        Change::RequestBodyRemoved,
        Change::ContentTypeAdded,
        Change::ContentTypeRemoved,
        Change::StatusRemoved,
        Change::ResponseHeaderAdded,
        Change::ResponseHeaderRemoved,
        Change::SecurityRequirementAdded,
        Change::SecurityRequirementRemoved,
        Change::SecurityScopesReduced,
        Change::SecuritySchemeChanged,
        Change::DefaultChanged,
        Change::TitleChanged,
        Change::Deprecation,
        Change::Documentation,
        Change::Unclassified,
    ];
    for flag in [false, true] {
        kinds.extend([
            Change::ParameterAdded { required: flag },
            Change::ParameterRequirement { now_required: flag },
            Change::RequestBodyAdded { required: flag },
            Change::RequestBodyRequirement { now_required: flag },
            Change::StatusAdded { success: flag },
            Change::ResponseHeaderRequirement { now_required: flag },
            Change::PropertyRemoved {
                still_accepted: flag,
            },
            Change::PropertyRequirement { now_required: flag },
        ]);
        for open_before in [false, true] {
            kinds.push(Change::PropertyAdded {
                required: flag,
                open_before,
            });
        }
    }
    for effect in [Effect::Widened, Effect::Narrowed, Effect::Changed] {
        kinds.push(kind(Change::Constraint {
            keyword: "any",
            effect,
        }));
    }
    kinds
}

#[test]
fn every_kind_of_change_has_a_case() {
    let mut seen = BTreeSet::new();
    for case in CASES {
        if let Ok(found) = compare(&patched(case.before), &patched(case.after)) {
            seen.extend(found.iter().map(|finding| kind(finding.change)));
        }
    }
    let listed = every_kind_of_change();
    let missing: Vec<&Change> = listed.iter().filter(|kind| !seen.contains(kind)).collect();
    assert!(missing.is_empty(), "no case reports {missing:#?}");
    let unlisted: Vec<&Change> = seen.iter().filter(|kind| !listed.contains(kind)).collect();
    assert!(
        unlisted.is_empty(),
        "cases report kinds every_kind_of_change lacks: {unlisted:#?}"
    );
}

/// `BASE` and the repository's contract are each no change from
/// themselves, and a known edit of the repository's contract is found: the
/// walk reads real contracts, not only the small one of these cases.
#[test]
fn a_contract_compared_with_itself_has_no_change() {
    let base: Value = serde_norway::from_str(BASE).unwrap();
    assert_eq!(compare(&base, &base).unwrap(), []);

    let path = workspace_root().join(crate::spec_file::SPEC_PATH);
    let contract = Contract::read(&path).unwrap();
    assert_eq!(compare(&contract.json, &contract.json).unwrap(), []);

    let mut edited = contract.json.clone();
    edited["components"]["schemas"]["TaskAgentRunWrite"]["required"]
        .as_array_mut()
        .unwrap()
        .push("extra".into());
    let found = compare(&contract.json, &edited).unwrap();
    assert_eq!(
        summary(&found),
        [(
            "property-added".to_owned(),
            Some(Side::Request),
            Impact::Breaking,
            "/components/schemas/TaskAgentRunWrite/required/6".to_owned()
        )],
        "{found:#?}"
    );
}

#[test]
fn every_rule_fires_on_its_change() {
    let mut failures = Vec::new();
    for case in CASES {
        let found = match compare(&patched(case.before), &patched(case.after)) {
            Ok(found) => found,
            Err(error) => {
                failures.push(format!("{}: {error}", case.name));
                continue;
            }
        };
        let mut expected: Vec<_> = case
            .expected
            .iter()
            .map(|(rule, side, impact, at)| (rule.to_string(), *side, *impact, at.to_string()))
            .collect();
        expected.sort();
        if summary(&found) != expected {
            failures.push(format!(
                "{}:\n  expected {expected:#?}\n  found    {:#?}",
                case.name,
                summary(&found)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_change_lists_every_place_that_reaches_it() {
    let found = compare(
        &patched(&[]),
        &patched(&[Set("/components/schemas/Label/maxLength", "32")]),
    )
    .unwrap();
    let usages = |side| {
        found
            .iter()
            .find(|f| f.side == Some(side))
            .map(|f| f.usages.clone())
            .unwrap()
    };
    assert_eq!(usages(Side::Request), ["put_thing request body .label"]);
    assert_eq!(
        usages(Side::Response),
        [
            "get_thing response 200 .label",
            "put_thing response 200 .label"
        ]
    );
}

#[test]
fn the_report_gives_rule_impact_place_and_usages_and_the_bump_needed() {
    let before = patched(&[]);
    let after = patched(&[
        Remove("/components/schemas/Thing/properties/note"),
        Remove("/components/schemas/Thing/required/3"),
        Set(
            "/components/schemas/ThingWrite/properties/color",
            "{type: string}",
        ),
    ]);
    let findings = compare(&before, &after).unwrap();
    let version = semver::Version::new(1, 0, 0);
    let report = CompatReport::Compared(report::Comparison::new(
        version.clone(),
        Some(&version),
        version.clone(),
        false,
        findings,
    ));
    assert!(!report.passes());
    let text = report.to_string();
    let expected = "\
spec ⇄ released 1.0.0: 2 changes (1 breaking, 1 compatible); info.version 1.0.0 is the released version; the changes need a major bump, to 2.0.0
  breaking      property-removed (response) at /components/schemas/Thing/properties/note (of released 1.0.0)
      `note` removed: clients that read it find nothing
      where: get_thing response 200 .note; put_thing response 200 .note
  compatible    property-added (request) at /components/schemas/ThingWrite/properties/color
      `color` added (optional): existing clients may leave it out
      where: put_thing request body .color
Make the changes compatible, or set info.version to 2.0.0 (see docs/CONTRIBUTING.md).
";
    assert_eq!(text, expected);
}

/// Writes `BASE` edited by `edits` with `info.version` set, as YAML text.
fn contract(version: &str, edits: &[Edit]) -> Contract {
    let mut doc = patched(edits);
    doc["info"]["version"] = Value::from(version);
    let text = serde_norway::to_string(&doc).unwrap();
    Contract::parse(Path::new("openapi.yaml"), text).unwrap()
}

#[test]
fn a_release_needs_the_bump_its_changes_need() {
    let dir = tempfile::tempdir().unwrap();
    let released = ReleasedContracts::new(dir.path().to_owned());
    let first = contract("1.0.0", &[]);
    assert!(matches!(
        release(&first, &released).unwrap(),
        Release::Done(Recorded::Written(_))
    ));

    let breaking = [Remove("/paths/~1things~1{id}/put")];
    let Release::Refused(report) = release(&contract("1.1.0", &breaking), &released).unwrap()
    else {
        panic!("a breaking change released as a minor version");
    };
    assert!(
        report.to_string().contains("need a major bump, to 2.0.0"),
        "{report}"
    );
    assert!(
        matches!(
            release(&contract("2.0.0", &breaking), &released).unwrap(),
            Release::Done(Recorded::Written(_))
        ),
        "a major version may break"
    );
    assert!(
        !check(&contract("1.5.0", &[]), &released).unwrap().passes(),
        "older than the latest release"
    );
}

/// After a pre-release, its final release may make the changes that the
/// bump from the latest final release allows, no more.
#[test]
fn a_pre_release_is_followed_by_its_final_release() {
    let dir = tempfile::tempdir().unwrap();
    let released = ReleasedContracts::new(dir.path().to_owned());
    std::fs::write(dir.path().join(".gitkeep"), "").unwrap();
    let optional_parameter = Set(
        "/paths/~1things~1{id}/get/parameters/-",
        "{in: query, name: limit, schema: {type: integer}}",
    );
    for candidate in [contract("1.0.0", &[]), contract("1.1.0-rc.1", &[])] {
        let outcome = release(&candidate, &released).unwrap();
        assert!(matches!(outcome, Release::Done(Recorded::Written(_))));
    }

    let breaking = contract("1.1.0", &[Remove("/paths/~1things~1{id}/get/parameters/0")]);
    let Release::Refused(report) = release(&breaking, &released).unwrap() else {
        panic!("a breaking change released in a minor version");
    };
    assert!(
        report.to_string().contains(
            "info.version 1.1.0 follows the pre-release 1.1.0-rc.1, a minor bump from 1.0.0; the changes need a major bump, to 2.0.0"
        ),
        "{report}"
    );

    let compatible = contract("1.1.0", &[optional_parameter]);
    let report = check(&compatible, &released).unwrap();
    assert!(
        report.to_string().contains(
            "info.version 1.1.0 follows the pre-release 1.1.0-rc.1, a minor bump from 1.0.0: enough"
        ),
        "{report}"
    );
    assert!(matches!(
        release(&compatible, &released).unwrap(),
        Release::Done(Recorded::Written(_))
    ));
}

/// The checked-in contract is its latest release, or says how it changed:
/// `cargo test` catches what `cargo xtask check` catches.
#[test]
fn openapi_yaml_keeps_the_promises_of_its_latest_release() {
    let root = workspace_root();
    let current = Contract::read(&root.join(crate::spec_file::SPEC_PATH)).unwrap();
    let released = ReleasedContracts::new(root.join(RELEASED_DIR));
    assert!(
        released.latest().unwrap().is_some(),
        "{RELEASED_DIR} records the released contracts"
    );
    let report = check(&current, &released).unwrap();
    assert!(report.passes(), "{report}");
}
