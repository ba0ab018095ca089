using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Plateau.Coordinator.Configuration;
using Plateau.ServiceDefaults;
using Plateau.Worker.Hosting;

namespace Plateau.Cli.Commands.Health;

/// <summary>
/// Where the container's main process serves <c>/alive</c>, read from its own arguments and environment the way its
/// host reads them; <see cref="Address"/> is null when the role serves no health endpoint (<see cref="Reason"/> says why).
/// </summary>
public sealed record HealthTarget(Uri? Address, string Reason)
{
    /// <summary>
    /// The role is the main process's first argument (the image's entry point is the plateau binary). Settings come in the
    /// hosts' order: appsettings.json in its working directory, its environment, its arguments, then its PLATEAU_
    /// variables, over the worker's built-in defaults for a worker.
    /// </summary>
    public static HealthTarget Of(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string? workingDirectory)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(environment);
        var role = arguments.Count > 1 ? arguments[1] : "";
        switch (role)
        {
            case "coordinator":
            {
                var coordinator = Bind<CoordinatorOptions>(Settings(arguments, environment, workingDirectory, defaults: null), CoordinatorOptions.SectionName);
                // Kestrel listens on loopback or on every address: 127.0.0.1 reaches either.
                return coordinator.HealthPort == 0
                    ? new HealthTarget(null, $"plateau coordinator serves no health endpoint ({CoordinatorOptions.SectionName}:HealthPort is 0)")
                    : Alive(IPAddress.Loopback, coordinator.HealthPort, "plateau coordinator");
            }

            case "worker":
            {
                var worker = Bind<WorkerOptions>(Settings(arguments, environment, workingDirectory, WorkerHostExtensions.WorkerDefaults), WorkerOptions.SectionName);
                if (worker.HealthPort == 0)
                {
                    return new HealthTarget(null, $"plateau worker serves no health endpoint ({WorkerOptions.SectionName}:HealthPort is 0)");
                }

                // The endpoint listens on the data-plane listen host: a wildcard is reached on loopback.
                var host = worker.DataPlaneListenHost switch
                {
                    "localhost" => IPAddress.Loopback,
                    var text when IPAddress.Parse(text).Equals(IPAddress.Any) => IPAddress.Loopback,
                    var text when IPAddress.Parse(text).Equals(IPAddress.IPv6Any) => IPAddress.IPv6Loopback,
                    var text => IPAddress.Parse(text),
                };
                return Alive(host, worker.HealthPort, "plateau worker");
            }

            default:
                return new HealthTarget(null, role.Length == 0 ? "the main process runs no plateau role" : $"plateau {role} serves no health endpoint");
        }
    }

    private static HealthTarget Alive(IPAddress host, int port, string role)
    {
        var address = new UriBuilder(Uri.UriSchemeHttp, host.ToString(), port, ServiceDefaultsExtensions.AlivePath).Uri;
        return new HealthTarget(address, string.Create(CultureInfo.InvariantCulture, $"{role} serves {ServiceDefaultsExtensions.AlivePath} on port {port}"));
    }

    private static IConfiguration Settings(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string? workingDirectory,
        IReadOnlyDictionary<string, string?>? defaults)
    {
        const string Prefix = "PLATEAU_";
        var builder = new ConfigurationBuilder();
        if (defaults is not null)
        {
            builder.AddInMemoryCollection(defaults);
        }

        if (workingDirectory is not null)
        {
            builder.AddJsonFile(Path.Combine(workingDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
        }

        builder.AddInMemoryCollection(environment.Select(e => KeyValuePair.Create(Key(e.Key), (string?)e.Value)));
        builder.AddCommandLine([.. arguments.Skip(2)]);
        builder.AddInMemoryCollection(environment.Where(e => e.Key.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            .Select(e => KeyValuePair.Create(Key(e.Key[Prefix.Length..]), (string?)e.Value)));
        return builder.Build();
    }

    private static string Key(string variable) => variable.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);

    private static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        var options = new T();
        configuration.GetSection(section).Bind(options);
        return options;
    }
}
