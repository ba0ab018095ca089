namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>-o</c>: how a command prints the objects it got from the coordinator.</summary>
public enum OutputFormat
{
    /// <summary>For a person: aligned columns and labelled lines.</summary>
    Table,

    /// <summary>Proto JSON of the message (camelCase, enums by name, defaults included); watch: one update per line.</summary>
    Json,

    /// <summary>The same fields as JSON, as YAML; watch: one YAML document per update.</summary>
    Yaml,
}
