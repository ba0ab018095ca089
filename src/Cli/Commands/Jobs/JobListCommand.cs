using System.CommandLine;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>plateau job list [--limit N] [--phase P]… [--page-token T] [-o table|json|yaml]</c>: the coordinator's jobs, newest first.</summary>
public static class JobListCommand
{
    public static Command Build(JobCommandOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limit = new Option<int>("--limit") { Description = "At most this many jobs (1-500).", DefaultValueFactory = _ => 50 };
        limit.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value is < 1 or > 500)
            {
                result.AddError($"--limit must be between 1 and 500, got {value}");
            }
        });
        var phase = new Option<JobPhase[]>("--phase")
        {
            Description = "Only jobs in this phase (repeatable): Pending, Rendezvous, Running, Paused, Completed, Failed, Cancelled.",
            AllowMultipleArgumentsPerToken = true,
        };
        var pageToken = new Option<string?>("--page-token") { Description = "Continue after the page that printed this token (the table's last line, or nextPageToken)." };
        var command = new Command("list", "List jobs, newest first: phase, epoch, step, learning rate, last validation error.") { limit, phase, pageToken };
        command.SetAction((parse, cancellation) => JobCalls.RunAsync(parse, options, null, async (connection, output, _, ct) =>
        {
            var request = new ListJobsRequest { Limit = parse.GetValue(limit), PageToken = parse.GetValue(pageToken) ?? "" };
            request.Phases.AddRange(parse.GetValue(phase) ?? []);
            var response = await connection.Client.ListJobsAsync(request, deadline: connection.Deadline(), cancellationToken: ct);
            var format = parse.GetValue(options.Output);
            if (format != OutputFormat.Table)
            {
                ObjectOutput.Write(response, format, output);
                return JobExitCodes.Ok;
            }

            if (response.Jobs.Count == 0)
            {
                output.WriteLine("no jobs");
            }
            else
            {
                JobFormat.WriteTable(response.Jobs, output);
            }

            if (response.NextPageToken.Length > 0)
            {
                output.WriteLine($"more: --page-token {response.NextPageToken}");
            }

            return JobExitCodes.Ok;
        }, cancellation));
        return command;
    }
}
