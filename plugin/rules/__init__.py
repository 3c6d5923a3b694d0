"""The rules, one folder each: its handlers, periodic work and pure logic (composed in plugin.composition)."""
