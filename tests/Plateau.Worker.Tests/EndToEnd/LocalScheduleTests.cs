using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;
using Proto = Plateau.Protos.V1;

namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>
/// An operator steers a running <c>plateau local</c> job through the real JobService: a forced drop sent
/// during the first epoch lowers the learning rate the workers train with from the next epoch plan on,
/// and the decision carries who asked and why. The plateau rule itself never fires (patience 100).
/// </summary>
[Trait("Category", "Slow")]
[Collection(LocalRunsTakeTurns.Name)]
public sealed partial class LocalScheduleTests(ITestOutputHelper output)
{
    private const string Reason = "validation error flat for a week, testing the operator path";
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task AnOperatorsDropLowersTheRunningJobsRateFromTheNextEpochAndTheDecisionSaysWhoAndWhy()
    {
        using var run = LocalRun.Start(Path.Combine(Path.GetTempPath(), "plateau-local-schedule-" + Guid.NewGuid().ToString("N")[..8]),
            "--workers", "2", "--model", "resnet20_cifar", "--epochs", "4", "--batch", "64",
            "--synthetic-train", "1024", "--synthetic-val", "128", "--patience", "100");
        await run.WaitForLineAsync("generation 1 formed with 2 workers", RunLimit);
        var api = ApiLine().Match(run.Output);
        Assert.True(api.Success, run.Output);
        var token = (await File.ReadAllTextAsync(api.Groups["token"].Value)).Trim();
        using var channel = GrpcChannel.ForAddress(api.Groups["address"].Value, new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + token);
                return Task.CompletedTask;
            })),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
        var client = new Proto.JobService.JobServiceClient(channel);
        var jobId = JobLine().Match(run.Output).Groups["job"].Value;

        var answer = await client.UpdateScheduleAsync(new Proto.UpdateScheduleRequest { JobId = jobId, Operator = "ci-operator", Reason = Reason, DropNow = true });
        Assert.Equal(0, await run.WaitForExitAsync(RunLimit));

        var text = run.Output;
        output.WriteLine(text);
        var recorded = Assert.Single(answer.ScheduleUpdates);
        Assert.Equal(("ci-operator", Reason, true), (recorded.Operator, recorded.Reason, recorded.DropNow));
        var decision = OperatorDecision().Match(text);
        Assert.True(decision.Success, "no operator decision in the summary");
        Assert.Contains($"operator ci-operator forced a drop: {Reason}", decision.Value, StringComparison.Ordinal);
        var dropEpoch = int.Parse(decision.Groups["epoch"].Value, CultureInfo.InvariantCulture);
        var rates = EpochLine().Matches(text).GroupBy(m => int.Parse(m.Groups["epoch"].Value, CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => double.Parse(g.First().Groups["lr"].Value, CultureInfo.InvariantCulture));
        Assert.Equal([0, 1, 2, 3], rates.Keys.Order());
        Assert.InRange(dropEpoch, 1, 3);
        for (var epoch = 1; epoch < 4; epoch++)
        {
            // Unchanged before the drop, a tenth from its epoch on (factor 0.1), never again lower (no plateau).
            var expected = epoch == dropEpoch ? rates[epoch - 1] * 0.1 : rates[epoch - 1];
            Assert.Equal(expected, rates[epoch], precision: 12);
        }
    }

    [GeneratedRegex(@"API: (?<address>http://127\.0\.0\.1:\d+) \(token in (?<token>\S+):")]
    private static partial Regex ApiLine();

    [GeneratedRegex(@"job (?<job>local-\d{8}-\d{6}):")]
    private static partial Regex JobLine();

    [GeneratedRegex(@"epoch\s+(?<epoch>\d+), step\s+\d+ \[operator\] .*")]
    private static partial Regex OperatorDecision();

    [GeneratedRegex(@"epoch (?<epoch>\d+): train loss .*, lr (?<lr>[0-9.Ee+-]+)")]
    private static partial Regex EpochLine();
}
