using System.CommandLine;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>plateau job list [--limit N] [--json]</c>: the coordinator's jobs, newest first.</summary>
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
        var json = new Option<bool>("--json") { Description = "Print the ListJobsResponse as proto JSON." };
        var command = new Command("list", "List jobs, newest first: phase, epoch, step, learning rate, last validation error.") { limit, json };
        command.SetAction((parse, cancellation) => JobCalls.RunAsync(parse, options, null, async (connection, output, _, ct) =>
        {
            var response = await connection.Client.ListJobsAsync(new ListJobsRequest { Limit = parse.GetValue(limit) }, deadline: connection.Deadline(), cancellationToken: ct);
            if (parse.GetValue(json))
            {
                output.WriteLine(JobFormat.ToJson(response));
            }
            else if (response.Jobs.Count == 0)
            {
                output.WriteLine("no jobs");
            }
            else
            {
                JobFormat.WriteTable(response.Jobs, output);
            }

            return JobExitCodes.Ok;
        }, cancellation));
        return command;
    }
}
