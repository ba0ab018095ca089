using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Plateau.Coordinator.Storage.PostgreSql;

namespace Plateau.Coordinator.Tests.State;

[Collection(OnePostgreSqlServer.Name)]
public sealed class PostgreSqlSchemaTests(PostgreSqlServer server)
{
    private readonly PostgreSqlSchema _schema = new(NullLogger<PostgreSqlSchema>.Instance);

    [Fact]
    public async Task TheSchemaIsAppliedOnceAndApplyingItAgainChangesNothing()
    {
        var database = await server.CreateDatabaseAsync("twice");

        var first = await _schema.ApplyAsync(database);
        var queries = await ScalarAsync<long>(database, "SELECT count(*) FROM orleansquery");
        var second = await _schema.ApplyAsync(database);

        Assert.All(first, s => Assert.Equal(SchemaScriptOutcome.Applied, s.Outcome));
        Assert.All(second, s => Assert.Equal(SchemaScriptOutcome.AlreadyApplied, s.Outcome));
        Assert.Equal(PostgreSqlSchema.Scripts, first.Select(s => s.Script));
        Assert.Equal(queries, await ScalarAsync<long>(database, "SELECT count(*) FROM orleansquery"));
        Assert.True(await ScalarAsync<bool>(database, "SELECT to_regclass('orleansmembershiptable') IS NOT NULL AND to_regclass('orleansstorage') IS NOT NULL"));
        Assert.True(await ScalarAsync<bool>(database, "SELECT to_regclass('orleansreminderstable') IS NOT NULL"));
        Assert.Equal(1L, await ScalarAsync<long>(database, "SELECT count(*) FROM plateau_schema_scripts WHERE script = 'PostgreSQL-Reminders.sql' AND outcome = 'Applied'"));
    }

    [Fact]
    public async Task ADatabasePreparedByHandIsCompletedWithoutRunningItsScriptsAgain()
    {
        // What docs/kubernetes.md used to say: run Main and Clustering by hand; here from an older Orleans
        // whose clustering script lacked the defunct-silo clean-up query.
        var database = await server.CreateDatabaseAsync("by_hand");
        await ExecuteAsync(database, PostgreSqlSchema.Text(PostgreSqlSchema.Scripts[0]));
        await ExecuteAsync(database, PostgreSqlSchema.Text(PostgreSqlSchema.Scripts[1]));
        await ExecuteAsync(database, "DELETE FROM orleansquery WHERE querykey = 'CleanupDefunctSiloEntriesKey'");

        var outcomes = await _schema.ApplyAsync(database);

        Assert.Equal(
            [SchemaScriptOutcome.FoundInPlace, SchemaScriptOutcome.FoundInPlace, SchemaScriptOutcome.Applied, SchemaScriptOutcome.Applied, SchemaScriptOutcome.Applied],
            outcomes.Select(o => o.Outcome));
        Assert.Equal(1L, await ScalarAsync<long>(database, "SELECT count(*) FROM orleansquery WHERE querykey = 'CleanupDefunctSiloEntriesKey'"));
        Assert.True(await ScalarAsync<bool>(database, "SELECT to_regclass('orleansstorage') IS NOT NULL"));
    }

    [Fact]
    public async Task AReminderTableMadeByHandIsFoundInPlace()
    {
        // Orleans' reminders documentation says to run its script by hand; a coordinator must not run it again.
        var database = await server.CreateDatabaseAsync("reminders_by_hand");
        await ExecuteAsync(database, PostgreSqlSchema.Text(PostgreSqlSchema.Scripts[0]));
        await ExecuteAsync(database, PostgreSqlSchema.Text(PostgreSqlSchema.Scripts.Single(s => s.Name == "PostgreSQL-Reminders.sql")));

        var outcomes = await _schema.ApplyAsync(database);

        Assert.Equal(
            [SchemaScriptOutcome.FoundInPlace, SchemaScriptOutcome.Applied, SchemaScriptOutcome.Applied, SchemaScriptOutcome.Applied, SchemaScriptOutcome.FoundInPlace],
            outcomes.Select(o => o.Outcome));
    }

    [Fact]
    public async Task TwoCoordinatorsStartingTogetherApplyTheSchemaOnce()
    {
        var database = await server.CreateDatabaseAsync("together");

        var both = await Task.WhenAll(_schema.ApplyAsync(database), _schema.ApplyAsync(database));

        var outcomes = both.SelectMany(b => b.Select(s => s.Outcome)).ToList();
        Assert.Equal(PostgreSqlSchema.Scripts.Count, outcomes.Count(o => o == SchemaScriptOutcome.Applied));
        Assert.Equal(PostgreSqlSchema.Scripts.Count, outcomes.Count(o => o == SchemaScriptOutcome.AlreadyApplied));
    }

    [Fact]
    public async Task AServerThatCannotBeReachedIsNamedWithTheSettingAndWithoutThePassword()
    {
        var closed = PostgreSqlServer.FreePort();
        var connectionString = $"Host=127.0.0.1;Port={closed};Username=plateau;Password=hunter2;Timeout=5";

        var error = await Assert.ThrowsAsync<PostgreSqlUnavailableException>(() => _schema.ApplyAsync(connectionString));

        Assert.StartsWith($"Plateau:Cluster:AdoNetConnectionString: cannot connect to PostgreSQL with 'Host=127.0.0.1;Port={closed};Username=plateau;Timeout=5' (password left out): ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingDatabaseIsNamedWithTheSetting()
    {
        var error = await Assert.ThrowsAsync<PostgreSqlUnavailableException>(() => _schema.ApplyAsync(server.ConnectionString("no_such_database")));

        Assert.Contains("cannot connect to PostgreSQL with", error.Message, StringComparison.Ordinal);
        Assert.Contains("database \"no_such_database\" does not exist", error.Message, StringComparison.Ordinal);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
