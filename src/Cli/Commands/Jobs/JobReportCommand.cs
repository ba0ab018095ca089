using System.CommandLine;
using Plateau.Cli.Reports;

namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>plateau job report ID [--out FILE]</c>: one self-contained HTML page about the job.</summary>
public static class JobReportCommand
{
    public static Command Build(JobCommandOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var id = new Argument<string>("id") { Description = "Job id." };
        var output = new Option<string>("--out") { Description = "HTML file to write.", DefaultValueFactory = _ => "report.html" };
        var command = new Command("report",
            "Write a self-contained HTML run report: loss and error per epoch, learning rate with each decision and its reason, images/s per epoch, checkpoints and restarts on a timeline.") { id, output };
        command.SetAction((parse, cancellation) =>
        {
            var jobId = parse.GetValue(id)!;
            var path = parse.GetValue(output)!;
            return JobCalls.RunAsync(parse, options, jobId, async (connection, stdout, error, ct) =>
            {
                try
                {
                    await RunReportWriter.WriteAsync(connection.Client, jobId, path, connection.CallTimeout, ct);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    error.WriteLine($"--out {path}: {e.Message}");
                    return JobExitCodes.InvalidInput;
                }

                stdout.WriteLine($"report: {Path.GetFullPath(path)}");
                return JobExitCodes.Ok;
            }, cancellation);
        });
        return command;
    }
}
