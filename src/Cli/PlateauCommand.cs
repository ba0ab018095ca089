using System.CommandLine;
using Plateau.Cli.Commands;
using Plateau.Cli.Commands.Data;
using Plateau.Cli.Commands.Local;

namespace Plateau.Cli;

/// <summary>The root <c>plateau</c> command; each subcommand lives in its own file.</summary>
public static class PlateauCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Plateau: data-parallel ResNet / SE-ResNet training orchestrator.");
        root.Subcommands.Add(ModelsCommand.Build());
        root.Subcommands.Add(DataCommand.Build());
        root.Subcommands.Add(Commands.Jobs.JobCommand.Build());
        root.Subcommands.Add(Commands.Jobs.ExportCommand.Build());
        root.Subcommands.Add(LocalCommand.Build());
        root.Subcommands.Add(CoordinatorCommand.Build());
        root.Subcommands.Add(WorkerCommand.Build());
        root.Subcommands.Add(HealthCommand.Build());
        return root;
    }
}
