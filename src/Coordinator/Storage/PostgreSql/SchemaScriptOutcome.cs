namespace Plateau.Coordinator.Storage.PostgreSql;

/// <summary>What <see cref="PostgreSqlSchema.ApplyAsync"/> did with one script.</summary>
public enum SchemaScriptOutcome
{
    /// <summary>Run now and recorded in the journal.</summary>
    Applied,

    /// <summary>Its tables were already there (created by hand); recorded in the journal, not run.</summary>
    FoundInPlace,

    /// <summary>The journal already lists it; nothing done.</summary>
    AlreadyApplied,
}
