using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Plateau.Contracts.Specs;
using Plateau.Coordinator.Hosting;
using Plateau.Kubernetes;
using Plateau.ServiceDefaults;
using Plateau.Worker.Hosting;
using Plateau.Worker.Training;

namespace Plateau.Cli.Commands;

/// <summary>
/// <c>plateau coordinator [--Plateau:…=…]</c>: the coordinator silo and its gRPC JobService. Run from
/// this binary it checks model names and options against the model registry.
/// </summary>
public static class CoordinatorCommand
{
    public static Command Build()
    {
        var exitWith = new Option<int?>("--exit-with") { Description = "Stop when the process with this id exits (used by plateau local).", Hidden = true };
        var command = new Command("coordinator", "Run the coordinator: settings as --Plateau:Coordinator:GrpcPort=5100 style arguments, PLATEAU_ environment variables or appsettings.json.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.Options.Add(exitWith);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var builder = WebApplication.CreateBuilder([.. parseResult.UnmatchedTokens]);
            builder.Configuration.AddEnvironmentVariables("PLATEAU_");
            builder.AddServiceDefaults().AddPlateauCoordinator(WorkerModels.Check).AddTrainingJobController();
            builder.Services.Configure<GrainTypeOptions>(WorkerHostExtensions.HostNoWorkerGrains);
            await using var app = builder.Build();
            app.MapDefaultEndpoints();
            app.MapPlateauCoordinator();
            ParentProcess.StopWithParent(app, parseResult.GetValue(exitWith));
            await app.RunAsync();
            return 0;
        });
        return command;
    }
}
