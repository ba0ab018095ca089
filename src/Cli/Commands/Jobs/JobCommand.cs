using System.CommandLine;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>
/// <c>plateau job …</c>: the coordinator's job-control API (plateau.v1.JobService) from the command line.
/// Exit codes are listed in <see cref="JobExitCodes"/> and docs/cli.md.
/// </summary>
public static class JobCommand
{
    public static Command Build()
    {
        var options = new JobCommandOptions();
        var job = new Command("job", "Submit, inspect, follow and steer training jobs on a coordinator.");
        job.Options.Add(options.Coordinator);
        job.Options.Add(options.Token);
        job.Options.Add(options.CaCertificate);
        job.Options.Add(options.Timeout);
        job.Options.Add(options.Output);
        job.Subcommands.Add(JobSubmitCommand.Build(options));
        job.Subcommands.Add(JobValidateCommand.Build());
        job.Subcommands.Add(JobListCommand.Build(options));
        job.Subcommands.Add(JobGetCommand.Build(options));
        job.Subcommands.Add(JobWatchCommand.Build(options));
        job.Subcommands.Add(JobReportCommand.Build(options));
        job.Subcommands.Add(JobControlCommand.BuildCancel(options));
        job.Subcommands.Add(JobControlCommand.BuildPause(options));
        job.Subcommands.Add(JobControlCommand.BuildResume(options));
        job.Subcommands.Add(JobScheduleCommand.Build(options));
        job.Subcommands.Add(JobCheckpointsCommand.Build(options));
        job.Subcommands.Add(JobMetricsCommand.Build(options));
        return job;
    }
}
