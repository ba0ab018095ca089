using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Plateau.ServiceDefaults;
using Plateau.Worker.Hosting;

namespace Plateau.Cli.Commands;

/// <summary>
/// <c>plateau worker --Plateau:Worker:JobId=ID [--Plateau:…=…]</c>: a worker process — an Orleans silo
/// joining the cluster of <c>Plateau:Cluster</c>, one WorkerGrain and trainer thread per device.
/// </summary>
public static class WorkerCommand
{
    public static Command Build()
    {
        var exitWith = new Option<int?>("--exit-with") { Description = "Stop when the process with this id exits (used by plateau local).", Hidden = true };
        var command = new Command("worker", "Run a worker process: settings as --Plateau:Worker:JobId=job-1 style arguments, PLATEAU_ environment variables or appsettings.json.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.Options.Add(exitWith);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var builder = Host.CreateApplicationBuilder([.. parseResult.UnmatchedTokens]);
            builder.Configuration.AddEnvironmentVariables("PLATEAU_");
            using var host = builder.AddServiceDefaults().AddPlateauWorker().Build();
            ParentProcess.StopWithParent(host, parseResult.GetValue(exitWith));
            await host.RunAsync(cancellationToken);
            return Environment.ExitCode;
        });
        return command;
    }
}
