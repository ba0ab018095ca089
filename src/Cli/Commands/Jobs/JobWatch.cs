using Grpc.Core;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>
/// Follows WatchJob until the job ends and turns its outcome into the exit code. A dropped stream is
/// reopened after the last event seen, so a coordinator restart does not repeat or lose lines. With
/// <c>-o json</c> every update is one JSON line (a JobUpdate), with <c>-o yaml</c> one YAML document.
/// </summary>
public static class JobWatch
{
    private const int MaxReconnects = 5;

    public static async Task<int> FollowAsync(CoordinatorConnection connection, string jobId, long afterSequence, OutputFormat format, TextWriter output, TextWriter error, CancellationToken cancellation)
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
