"""The RusToK server: composes installed modules into one Starlette/Ariadne app.

Read in boot order: :mod:`rustok_server.boot` (settings → modules → manifest check →
database → services), :mod:`rustok_server.app` (routes and middleware),
:mod:`rustok_server.graphql.schema` (schema composition and resolver guards).
"""
