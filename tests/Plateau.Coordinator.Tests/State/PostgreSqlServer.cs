using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Plateau.Coordinator.Tests.State;

/// <summary>
/// A real PostgreSQL 15 server (Debian's <c>postgresql</c>, installed by scripts/install-test-deps.sh) for
/// one test collection: initdb in a temporary folder, listening on 127.0.0.1 at a free port with its unix
/// socket in that folder. PostgreSQL refuses to run as root, so as root it runs as the <c>postgres</c>
/// account the Debian package creates. Each test gets its own database.
/// </summary>
public sealed class PostgreSqlServer : IAsyncLifetime
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private const string Superuser = "plateau";
    private string? _runAs;
    private int _databases;

    public string Root { get; } = Directory.CreateTempSubdirectory("plateau-pg-").FullName;

    public int Port { get; private set; }

    private string Data => Path.Combine(Root, "data");

    private string LogFile => Path.Combine(Root, "server.log");

    public async Task InitializeAsync()
    {
        if (!File.Exists(Path.Combine(Bin, "pg_ctl")))
        {
            throw new InvalidOperationException($"PostgreSQL 15 is not installed ({Bin}/pg_ctl is missing): run scripts/install-test-deps.sh, which installs Debian's postgresql");
        }

        if (Environment.IsPrivilegedProcess)
        {
            _runAs = "postgres";
            if (await RunAsync("/usr/bin/id", ["-u", _runAs], check: false) != 0)
            {
                throw new InvalidOperationException("these tests run as root, and PostgreSQL refuses root: they need the 'postgres' account that Debian's postgresql package creates, and it is missing");
            }

            await RunAsync("/usr/bin/chown", ["-R", _runAs, Root]);
        }

        Port = FreePort();
        // fsync off: these tests restart coordinators, not the database server, and the machine is slow.
        await RunAsync(Path.Combine(Bin, "initdb"), ["-D", Data, "-U", Superuser, "--auth=trust", "--encoding=UTF8", "--no-sync"]);
        var options = string.Create(CultureInfo.InvariantCulture, $"-p {Port} -k {Root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200");
        if (await RunAsync(Path.Combine(Bin, "pg_ctl"), ["-D", Data, "-l", LogFile, "-w", "-t", "120", "-o", options, "start"], check: false) != 0)
        {
            throw new InvalidOperationException($"PostgreSQL did not start on port {Port}; its log:\n{await ReadLogAsync()}");
        }
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await RunAsync(Path.Combine(Bin, "pg_ctl"), ["-D", Data, "-m", "immediate", "-w", "stop"], check: false);
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>Connection string of a database on this server (no password: trust authentication on loopback).</summary>
    public string ConnectionString(string database) =>
        string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Database={database};Username={Superuser};Timeout=60;Command Timeout=120");

    /// <summary>A new, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string stem)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{stem}_{Interlocked.Increment(ref _databases)}");
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    private async Task<string> ReadLogAsync() => File.Exists(LogFile) ? await File.ReadAllTextAsync(LogFile) : "(no log)";

    private async Task<int> RunAsync(string program, IReadOnlyList<string> arguments, bool check = true)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
        if (_runAs is not null && program.StartsWith(Bin, StringComparison.Ordinal))
        {
            start.FileName = "/usr/sbin/runuser";
            foreach (var argument in (string[])["-u", _runAs, "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = program;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output}{await error}");
        }

        return process.ExitCode;
    }

    /// <summary>A loopback port nothing listened on a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
