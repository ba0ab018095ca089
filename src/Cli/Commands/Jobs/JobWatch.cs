using Grpc.Core;
using Plateau.Protos.V1;
using Spectre.Console;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>
/// Follows WatchJob until the job ends and turns its outcome into the exit code. A dropped stream is
/// reopened after the last event seen, so a coordinator restart does not repeat or lose lines. With
/// <c>-o json</c> every update is one JSON line (a JobUpdate), with <c>-o yaml</c> one YAML document.
/// </summary>
public static class JobWatch
{
    private const int MaxReconnects = 5;

    /// <summary>
    /// Follows the job. On a terminal (standard output is the console and not redirected) the table format
    /// draws a <see cref="LiveJobView"/>; otherwise it writes one line per update.
    /// </summary>
    public static async Task<int> FollowAsync(CoordinatorConnection connection, string jobId, long afterSequence, OutputFormat format, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        if (format != OutputFormat.Table || output != Console.Out || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await FollowAsync(connection, jobId, afterSequence, format, null, null, output, error, cancellation);
        }

        var view = new LiveJobView();
        var code = JobExitCodes.OtherError;
        await AnsiConsole.Live(view.Render()).AutoClear(false).StartAsync(async live =>
            code = await FollowAsync(connection, jobId, afterSequence, format, () => live.UpdateTarget(view.Render()), view, TextWriter.Null, error, cancellation));
        return code;
    }

    private static async Task<int> FollowAsync(CoordinatorConnection connection, string jobId, long afterSequence, OutputFormat format, Action? refresh, LiveJobView? view, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var after = afterSequence;
        Job? last = null;
        var reconnects = 0;
        while (true)
        {
            var receivedAny = false;
            var opening = true;
            try
            {
                using var call = connection.Client.WatchJob(new WatchJobRequest { JobId = jobId, AfterSequence = after }, cancellationToken: cancellation);
                await foreach (var update in call.ResponseStream.ReadAllAsync(cancellation))
                {
                    receivedAny = true;
                    if (format != OutputFormat.Table)
                    {
                        // Only a reconnect's opening snapshot repeats what was already written.
                        var repeated = opening && update.UpdateCase == JobUpdate.UpdateOneofCase.Snapshot && last is not null && last.Phase == update.Snapshot.Phase;
                        opening = false;
                        if (!repeated)
                        {
                            ObjectOutput.WriteStreamed(update, format, output);
                        }

                        if (update.UpdateCase == JobUpdate.UpdateOneofCase.Snapshot)
                        {
                            last = update.Snapshot;
                        }
                        else if (update.UpdateCase == JobUpdate.UpdateOneofCase.Event)
                        {
                            after = Math.Max(after, update.Event.Sequence);
                        }

                        continue;
                    }

                    if (view is not null)
                    {
                        Show(view, update, last);
                        if (update.UpdateCase == JobUpdate.UpdateOneofCase.Event && update.Event.Type == EventType.EpochMetrics)
                        {
                            // Per-rank images/s come with the job, not the event: fetch it once per epoch.
                            view.Update(await connection.Client.GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: connection.Deadline(), cancellationToken: cancellation));
                        }

                        refresh?.Invoke();
                    }

                    switch (update.UpdateCase)
                    {
                        case JobUpdate.UpdateOneofCase.Snapshot:
                            // The opening snapshot of a reconnect repeats what was already shown.
                            if (last is null || last.Phase != update.Snapshot.Phase)
                            {
                                output.WriteLine(JobFormat.Snapshot(update.Snapshot));
                            }

                            last = update.Snapshot;
                            break;
                        case JobUpdate.UpdateOneofCase.Event:
                            after = Math.Max(after, update.Event.Sequence);
                            output.WriteLine(JobFormat.Event(update.Event));
                            break;
                        case JobUpdate.UpdateOneofCase.Progress:
                            output.WriteLine(JobFormat.ProgressLine(update.Progress));
                            break;
                    }
                }
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Internal && last is not null && !cancellation.IsCancellationRequested)
            {
                if (++reconnects > MaxReconnects)
                {
                    throw;
                }

                error.WriteLine($"lost the watch stream ({e.Status.Detail}); reconnecting ({reconnects}/{MaxReconnects})");
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(8, 1 << (reconnects - 1))), cancellation);
                continue;
            }

            if (last is not null && JobFormat.IsTerminal(last.Phase))
            {
                return Outcome(last, error);
            }

            // The server ends the stream only after a terminal phase; anything else is a lost connection.
            if (++reconnects > MaxReconnects)
            {
                error.WriteLine($"the watch stream of job {jobId} kept ending before the job finished");
                return JobExitCodes.OtherError;
            }

            if (!receivedAny)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
            }
        }
    }

    /// <summary>The live view's share of an update; the line writer below still tracks the stream position.</summary>
    private static void Show(LiveJobView view, JobUpdate update, Job? last)
    {
        switch (update.UpdateCase)
        {
            case JobUpdate.UpdateOneofCase.Snapshot when last is null || last.Phase != update.Snapshot.Phase:
                view.Snapshot(update.Snapshot);
                break;
            case JobUpdate.UpdateOneofCase.Event:
                view.Event(update.Event);
                break;
            case JobUpdate.UpdateOneofCase.Progress:
                view.Progress(update.Progress);
                break;
        }
    }

    private static int Outcome(Job job, TextWriter error)
    {
        switch (job.Phase)
        {
            case JobPhase.Completed:
                return JobExitCodes.Ok;
            case JobPhase.Failed:
                error.WriteLine($"job {job.JobId} failed: {job.PhaseReason}");
                return JobExitCodes.JobFailed;
            default:
                error.WriteLine($"job {job.JobId} was cancelled: {job.PhaseReason}");
                return JobExitCodes.JobCancelled;
        }
    }
}
