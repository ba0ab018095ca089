using System.CommandLine;

namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>plateau job watch ID [--after SEQ] [-o table|json|yaml]</c>: follow a job until it ends; exit 0 Completed, 1 Failed, 3 Cancelled.</summary>
public static class JobWatchCommand
{
    public static Command Build(JobCommandOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var id = new Argument<string>("id") { Description = "Job id." };
        var after = new Option<long>("--after") { Description = "Only events after this sequence number (0: every retained event).", DefaultValueFactory = _ => 0 };
        after.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<long>() < 0)
            {
                result.AddError($"--after must be ≥ 0, got {result.GetValueOrDefault<long>()}");
            }
        });
        var command = new Command("watch",
            "Follow a job's events and progress, one line each, until it ends. Exit code: 0 Completed, 1 Failed, 3 Cancelled, 130 interrupted.") { id, after };
        command.SetAction((parse, cancellation) =>
        {
            var jobId = parse.GetValue(id)!;
            return JobCalls.RunAsync(parse, options, jobId,
                (connection, output, error, ct) => JobWatch.FollowAsync(connection, jobId, parse.GetValue(after), parse.GetValue(options.Output), output, error, ct), cancellation);
        });
        return command;
    }
}
