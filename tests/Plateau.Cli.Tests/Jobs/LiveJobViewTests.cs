using Google.Protobuf.WellKnownTypes;
using Plateau.Cli.Commands.Jobs;
using Plateau.Protos.V1;
using Spectre.Console;

namespace Plateau.Cli.Tests.Jobs;

/// <summary>What watch draws on a terminal, rendered to a plain Spectre console.</summary>
public sealed class LiveJobViewTests
{
    private static string Draw(LiveJobView view)
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 120;
        console.Write(view.Render());
        return writer.ToString();
    }

    [Fact]
    public void TheViewShowsTheEpochEachRanksThroughputAndOnlyTheLatestEvents()
    {
        var view = new LiveJobView();
        var job = new Job { JobId = "live", Phase = Protos.V1.JobPhase.Running, Generation = 2, WorldSize = 2, TotalEpochs = 10 };
        view.Snapshot(job);
        for (var i = 1; i <= LiveJobView.LogLines + 3; i++)
        {
            view.Event(new JobEvent { Sequence = i, Kind = "warning", Message = $"event number {i}", At = Timestamp.FromDateTime(DateTime.UnixEpoch) });
        }

        view.Progress(new Protos.V1.Progress { Epoch = 3, GlobalStep = 350, StepsInEpoch = 100, ImagesPerSecond = 812, Loss = 1.25, LearningRate = 0.1 });
        job.LatestMetrics = new EpochMetrics { Epoch = 2, RankImagesPerSecond = { 400.5, 411.5 } };
        view.Update(job);

        var text = Draw(view);

        Assert.Contains("live  Running  generation 2  world size 2", text, StringComparison.Ordinal);
        Assert.Contains("epoch 4/10 50%  step 350  812 img/s  loss 1.250", text, StringComparison.Ordinal);
        Assert.Contains("images/s per rank (epoch 3)", text, StringComparison.Ordinal);
        Assert.Contains("rank 0", text, StringComparison.Ordinal);
        Assert.Contains("rank 1", text, StringComparison.Ordinal);
        Assert.Contains("411.5", text, StringComparison.Ordinal);
        Assert.Contains($"event number {LiveJobView.LogLines + 3}", text, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"event number 3\b", text);
        Assert.Contains("event number 4", text, StringComparison.Ordinal);
    }
}
