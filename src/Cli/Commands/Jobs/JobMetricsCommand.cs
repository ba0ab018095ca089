using System.CommandLine;
using System.Globalization;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>plateau job metrics ID [--from-epoch N] [-o table|json|yaml]</c>: per-epoch metrics, then each running rank's throughput.</summary>
public static class JobMetricsCommand
{
    public static Command Build(JobCommandOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var id = new Argument<string>("id") { Description = "Job id." };
        var fromEpoch = new Option<int>("--from-epoch") { Description = "First epoch to show (0: all)." };
        var command = new Command("metrics", "A job's metrics per epoch (loss, error, learning rate) and, while it runs, each rank's images/s, step time, data-wait and all-reduce shares and straggler ratio.")
        {
            id, fromEpoch,
        };
        command.SetAction((parse, cancellation) =>
        {
            var jobId = parse.GetValue(id)!;
            return JobCalls.RunAsync(parse, options, jobId, async (connection, output, _, ct) =>
            {
                var metrics = await connection.Client.GetMetricsAsync(new GetMetricsRequest { JobId = jobId, FromEpoch = parse.GetValue(fromEpoch) },
                    deadline: connection.Deadline(), cancellationToken: ct);
                var format = parse.GetValue(options.Output);
                if (format != OutputFormat.Table)
                {
                    ObjectOutput.Write(metrics, format, output);
                    return JobExitCodes.Ok;
                }

                Write(metrics, output);
                return JobExitCodes.Ok;
            }, cancellation);
        });
        return command;
    }

    private static void Write(JobMetrics metrics, TextWriter output)
    {
        output.WriteLine($"{"EPOCH",5} {"STEP",9} {"TRAIN LOSS",10} {"TRAIN TOP-1",11} {"VAL TOP-1",9} {"VAL TOP-5",9} {"LR",10} {"IMAGES/S PER RANK",-20}");
        foreach (var m in metrics.Epochs)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m.Epoch,5} {m.GlobalStep,9} {m.TrainLoss,10:0.0000} {Percent(m.TrainTop1Error),11} {(m.HasValTop1Error ? Percent(m.ValTop1Error) : "-"),9} {(m.HasValTop5Error ? Percent(m.ValTop5Error) : "-"),9} {m.LearningRate,10:G4} {string.Join(" ", m.RankImagesPerSecond.Select(v => v.ToString("0", CultureInfo.InvariantCulture))),-20}"));
        }

        if (metrics.Ranks.Count == 0)
        {
            output.WriteLine("no generation is running");
            return;
        }

        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"running: {metrics.ImagesPerSecond:0.0} images/s in all"));
        output.WriteLine($"{"RANK",4} {"WORKER",-20} {"HOST",-16} {"STEP",9} {"IMAGES/S",9} {"OWN S/STEP",10} {"DATA WAIT",9} {"ALLREDUCE",9} {"LOSS",8} {"VS MEDIAN",9}");
        foreach (var r in metrics.Ranks)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Rank,4} {r.WorkerId,-20} {r.Host,-16} {r.GlobalStep,9} {r.ImagesPerSecond,9:0.0} {r.OwnSecondsPerStep,10:0.000} {Percent(r.DataWaitShare),9} {Percent(r.AllReduceShare),9} {r.Loss,8:0.000} {(r.HasStragglerRatio ? r.StragglerRatio.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "-"),9}"));
        }
    }

    private static string Percent(double share) => (share * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%";
}
