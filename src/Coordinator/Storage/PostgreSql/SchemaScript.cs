namespace Plateau.Coordinator.Storage.PostgreSql;

/// <summary>
/// One Orleans PostgreSQL script shipped in this folder (embedded in the assembly). <paramref name="MarkerTable"/>
/// is a table the script creates: when it already exists but the journal does not list the script, the
/// database was prepared by hand (docs/state.md) and the script is recorded instead of run again.
/// Null for scripts that are safe to run on any schema.
/// </summary>
public sealed record SchemaScript(string Name, string? MarkerTable);
