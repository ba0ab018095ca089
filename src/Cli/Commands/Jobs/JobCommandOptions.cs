using System.CommandLine;
using System.Globalization;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>
/// Options every <c>plateau job</c> subcommand shares: where the coordinator is, how to prove who we are,
/// how long to wait for it and how to print what it answers.
/// </summary>
public sealed class JobCommandOptions
{
    public const string DefaultAddress = "http://127.0.0.1:5100";

    /// <summary>Environment variable that replaces <see cref="DefaultAddress"/> (the option still wins).</summary>
    public const string AddressVariable = "PLATEAU_COORDINATOR";

    /// <summary>Environment variable holding the bearer token when --token is not given.</summary>
    public const string TokenVariable = "PLATEAU_TOKEN";

    /// <summary>Environment variable naming a PEM certificate to trust for https:// when --ca-cert is not given.</summary>
    public const string CaCertificateVariable = "PLATEAU_CA_CERT";

    public Option<string> Coordinator { get; } = new("--coordinator")
    {
        Description = $"Coordinator's JobService address (default {DefaultAddress}, or ${AddressVariable} when set).",
        DefaultValueFactory = _ => DefaultCoordinator(Environment.GetEnvironmentVariable(AddressVariable)),
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"Bearer token for the coordinator (a configured token or a JWT); default ${TokenVariable}. Prefer the variable: arguments show in ps.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } token ? token.Trim() : null,
        Recursive = true,
    };

    public Option<string?> CaCertificate { get; } = new("--ca-cert")
    {
        Description = $"PEM certificate (or CA) the coordinator's https:// certificate must chain to or equal; default ${CaCertificateVariable}, else the system trust store.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(CaCertificateVariable) is { Length: > 0 } path ? path : null,
        Recursive = true,
    };

    public Option<double> Timeout { get; } = new("--timeout")
    {
        Description = "Deadline of each call to the coordinator, in seconds.",
        DefaultValueFactory = _ => 10,
        Recursive = true,
    };

    public Option<OutputFormat> Output { get; } = new("--output", "-o")
    {
        Description = "How to print objects: table (default), json (proto JSON; watch: one update per line) or yaml.",
        DefaultValueFactory = _ => OutputFormat.Table,
        Recursive = true,
    };

    public JobCommandOptions() =>
        Timeout.Validators.Add(result =>
        {
            var seconds = result.GetValueOrDefault<double>();
            if (!(seconds > 0 && seconds <= 3600))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--timeout must be between 0 and 3600 seconds, got {seconds}"));
            }
        });

    /// <summary>The address used when --coordinator is not given.</summary>
    public static string DefaultCoordinator(string? environmentValue) =>
        string.IsNullOrWhiteSpace(environmentValue) ? DefaultAddress : environmentValue.Trim();
}
