using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;
using Plateau.Cluster;

namespace Plateau.Coordinator.Storage.PostgreSql;

/// <summary>
/// Applies the Orleans PostgreSQL scripts (membership, grain storage, reminders) to a database exactly once. The
/// scripts are Orleans' own, unchanged, and create tables without IF NOT EXISTS, so a journal table
/// (<c>plateau_schema_scripts</c>) records which ran. Everything happens in one transaction under an
/// advisory lock: two coordinators starting together wait for each other, and a failed script leaves
/// nothing behind.
/// </summary>
public sealed partial class PostgreSqlSchema(ILogger<PostgreSqlSchema> logger)
{
    /// <summary>The setting the connection string comes from, named in every error.</summary>
    public const string Setting = "Plateau:Cluster:AdoNetConnectionString";

    /// <summary>Key of the advisory lock that serializes schema set-up across coordinators.</summary>
    private const long LockKey = 0x506c6174_65617531; // "Plateau1"

    /// <summary>In the order they must run: Main creates the query table the others fill.</summary>
    public static IReadOnlyList<SchemaScript> Scripts { get; } =
    [
        new("PostgreSQL-Main.sql", "orleansquery"),
        new("PostgreSQL-Clustering.sql", "orleansmembershiptable"),
        // Adds the defunct-silo clean-up query to a membership schema made by an older script; a no-op otherwise.
        new("Migrations/PostgreSQL-Clustering-3.7.0.sql", null),
        new("PostgreSQL-Persistence.sql", "orleansstorage"),
        // Orleans' reminders documentation says to run it by hand, so a hand-prepared database may have it.
        new("PostgreSQL-Reminders.sql", "orleansreminderstable"),
    ];

    /// <summary>The text of a shipped script.</summary>
    public static string Text(SchemaScript script)
    {
        ArgumentNullException.ThrowIfNull(script);
        var resource = "PostgreSql/" + script.Name;
        using var stream = typeof(PostgreSqlSchema).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"schema script {resource} is not embedded in {typeof(PostgreSqlSchema).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Brings the database's schema up to date; returns what happened to each script.</summary>
    public async Task<IReadOnlyList<(SchemaScript Script, SchemaScriptOutcome Outcome)>> ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        NpgsqlConnection connection;
        try
        {
            connection = new NpgsqlConnection(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new PostgreSqlUnavailableException($"{Setting} {ConnectionStrings.Quoted(connectionString)} is not a PostgreSQL connection string: {e.Message}", e);
        }

        await using (connection)
        {
            try
            {
                await connection.OpenAsync(cancellationToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                throw new PostgreSqlUnavailableException(
                    $"{Setting}: cannot connect to PostgreSQL with {ConnectionStrings.Quoted(connectionString)} (password left out): {Reason(e)}", e);
            }

            try
            {
                return await ApplyAsync(connection, cancellationToken);
            }
            catch (NpgsqlException e)
            {
                throw new PostgreSqlUnavailableException(
                    $"{Setting}: the Orleans schema could not be set up in {ConnectionStrings.Quoted(connectionString)} (password left out): {Reason(e)}", e);
            }
        }
    }

    private async Task<IReadOnlyList<(SchemaScript, SchemaScriptOutcome)>> ApplyAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);
        await ExecuteAsync(connection, transaction,
            """
            CREATE TABLE IF NOT EXISTS plateau_schema_scripts
            (
                script text PRIMARY KEY,
                sha256 text NOT NULL,
                outcome text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """, cancellationToken);

        var journal = new HashSet<string>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand("SELECT script FROM plateau_schema_scripts", connection, transaction))
        await using (var rows = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await rows.ReadAsync(cancellationToken))
            {
                journal.Add(rows.GetString(0));
            }
        }

        var outcomes = new List<(SchemaScript, SchemaScriptOutcome)>();
        foreach (var script in Scripts)
        {
            if (journal.Contains(script.Name))
            {
                outcomes.Add((script, SchemaScriptOutcome.AlreadyApplied));
                continue;
            }

            var text = Text(script);
            var outcome = script.MarkerTable is { } marker && await TableExistsAsync(connection, transaction, marker, cancellationToken)
                ? SchemaScriptOutcome.FoundInPlace
                : SchemaScriptOutcome.Applied;
            if (outcome == SchemaScriptOutcome.Applied)
            {
                await ExecuteAsync(connection, transaction, text, cancellationToken);
            }

            await using (var record = new NpgsqlCommand("INSERT INTO plateau_schema_scripts (script, sha256, outcome) VALUES ($1, $2, $3)", connection, transaction))
            {
                record.Parameters.AddWithValue(script.Name);
                record.Parameters.AddWithValue(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))));
                record.Parameters.AddWithValue(outcome.ToString());
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            LogScript(logger, script.Name, outcome);
            outcomes.Add((script, outcome));
        }

        await transaction.CommitAsync(cancellationToken);
        return outcomes;
    }

    private static async Task<bool> TableExistsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection, transaction);
        command.Parameters.AddWithValue(table);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The innermost message: "Connection refused", "password authentication failed for user …".</summary>
    private static string Reason(Exception e)
    {
        var message = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            message = $"{message} ({inner.Message})";
        }

        return message;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL schema: {Script} {Outcome}")]
    private static partial void LogScript(ILogger logger, string script, SchemaScriptOutcome outcome);
}
