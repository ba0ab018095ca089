using System.CommandLine;
using System.Net;
using System.Net.Sockets;

namespace Plateau.Cli.Tests.Jobs;

/// <summary>Runs the real <c>plateau</c> command tree with its own output writers (safe in parallel tests).</summary>
internal static class CliRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await PlateauCommand.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string WriteSpec(string directory, string name, string yaml)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    /// <summary>A valid spec that waits for two workers, so with none around it stays in Rendezvous.</summary>
    public static string TwoWorkerSpec(string model = "se_resnet20_cifar", double rendezvousTimeoutSeconds = 600) => $"""
        apiVersion: plateau/v1
        model: {"{"} name: {model} {"}"}
        dataset: {"{"} kind: synthetic {"}"}
        epochs: 3
        batch: {"{"} global: 32 {"}"}
        optimizer: {"{"} lr: 0.1, momentum: 0.9 {"}"}
        workers: {"{"} min: 2, max: 2, rendezvousTimeoutSeconds: {rendezvousTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} {"}"}
        """;

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Orleans.sln not found above " + AppContext.BaseDirectory);
    }
}
