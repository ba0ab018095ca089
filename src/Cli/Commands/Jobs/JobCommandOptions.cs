using System.CommandLine;
using System.Globalization;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>Options every <c>plateau job</c> subcommand shares: where the coordinator is and how long to wait for it.</summary>
public sealed class JobCommandOptions
{
    public const string DefaultAddress = "http://127.0.0.1:5100";

    /// <summary>Environment variable that replaces <see cref="DefaultAddress"/> (the option still wins).</summary>
    public const string AddressVariable = "PLATEAU_COORDINATOR";

    public Option<string> Coordinator { get; } = new("--coordinator")
    {
        Description = $"Coordinator's JobService address (default {DefaultAddress}, or ${AddressVariable} when set).",
        DefaultValueFactory = _ => DefaultCoordinator(Environment.GetEnvironmentVariable(AddressVariable)),
        Recursive = true,
    };

    public Option<double> Timeout { get; } = new("--timeout")
    {
        Description = "Deadline of each call to the coordinator, in seconds.",
        DefaultValueFactory = _ => 10,
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
