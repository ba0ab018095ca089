namespace Plateau.Coordinator.Tests.State;

/// <summary>The tests that share one PostgreSQL server (each in its own database).</summary>
[CollectionDefinition(Name)]
public sealed class OnePostgreSqlServer : ICollectionFixture<PostgreSqlServer>
{
    public const string Name = "PostgreSQL";
}
