using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>
/// A real Prometheus (Debian's, installed by scripts/install-test-deps.sh) scrapes a running
/// <c>plateau local</c> job — coordinator and 2 worker processes — at the endpoints the run prints, and
/// its HTTP API then holds the job's images/s, loss and learning-rate series per rank, with values that
/// follow the run: the plateau schedule (threshold 0.9, patience 0) drops the rate 0.1 → 0.01 after the
/// second epoch, so the rank's learning-rate series holds both.
/// </summary>
[Collection(LocalRunsTakeTurns.Name)]
public sealed partial class PrometheusScrapeTests : IDisposable
{
    private const string PrometheusBinary = "/usr/bin/prometheus";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "plateau-prom-e2e-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    [Trait("Category", "Slow")]
    public async Task PrometheusScrapesImagesPerSecondLossAndLearningRatePerRankFromALocalJob()
    {
        Assert.True(File.Exists(PrometheusBinary), $"{PrometheusBinary} is missing: run scripts/install-test-deps.sh");
        Directory.CreateDirectory(_folder);
        var output = new StringBuilder();
        var endpoints = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var local = Start(Path.Combine(AppContext.BaseDirectory, "plateau"), [
            "local", "--workers", "2", "--model", "resnet20_cifar", "--epochs", "4", "--batch", "64",
            "--synthetic-train", "768", "--synthetic-val", "200", "--patience", "0", "--threshold", "0.9",
            "--plain", "--dir", Path.Combine(_folder, "run")], line =>
        {
            lock (output)
            {
                output.AppendLine(line);
            }

            if (line.StartsWith("metrics (Prometheus): ", StringComparison.Ordinal))
            {
                endpoints.TrySetResult(line);
            }
        });
        Process? prometheus = null;
        try
        {
            var line = await endpoints.Task.WaitAsync(TimeSpan.FromMinutes(2));
            var targets = Endpoint().Matches(line).Select(m => m.Groups["target"].Value).ToList();
            Assert.Equal(3, targets.Count);
            var webPort = FreePort();
            var config = Path.Combine(_folder, "prometheus.yml");
            await File.WriteAllTextAsync(config, string.Join('\n',
                "global:", "  scrape_interval: 1s", "  scrape_timeout: 1s",
                "scrape_configs:", "  - job_name: plateau-local", "    static_configs:",
                $"      - targets: [{string.Join(", ", targets.Select(t => $"'{t}'"))}]", ""));
            prometheus = Start(PrometheusBinary, [
                $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(_folder, "tsdb")}",
                $"--web.listen-address=127.0.0.1:{webPort}"], _ => { });

            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(6));
            await local.WaitForExitAsync(limit.Token);
            var text = Text(output);
            Assert.True(local.ExitCode == 0, $"plateau local exited {local.ExitCode}:\n{text}");
            var jobId = JobLine().Match(text).Groups["id"].Value;
            Assert.False(string.IsNullOrEmpty(jobId), text);
            // plateau local leaves the run report beside its checkpoints and logs.
            Assert.Contains($"report: {Path.Combine(_folder, "run", "report.html")}", text, StringComparison.Ordinal);
            Assert.Contains($"Plateau run report: {jobId}", await File.ReadAllTextAsync(Path.Combine(_folder, "run", "report.html")), StringComparison.Ordinal);

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{webPort}") };
            var images = await Query(http, $"last_over_time(plateau_train_images_per_second{{job_id=\"{jobId}\"}}[30m])");
            Assert.Equal(["0", "1"], images.Select(s => s.Labels["rank"]).Order());
            Assert.All(images, s => Assert.InRange(s.Value, 1, 1e6));
            Assert.All(images, s => Assert.False(string.IsNullOrEmpty(s.Labels["host"])));

            var loss = await Query(http, $"last_over_time(plateau_train_loss{{job_id=\"{jobId}\"}}[30m])");
            Assert.Equal(["0", "1"], loss.Select(s => s.Labels["rank"]).Order());
            Assert.All(loss, s => Assert.InRange(s.Value, 0.01, 20));

            var highest = await Query(http, $"max_over_time(plateau_train_learning_rate{{job_id=\"{jobId}\",rank=\"0\"}}[30m])");
            var lowest = await Query(http, $"min_over_time(plateau_train_learning_rate{{job_id=\"{jobId}\",rank=\"0\"}}[30m])");
            Assert.Equal(0.1, Assert.Single(highest).Value, 9);
            Assert.InRange(Assert.Single(lowest).Value, 1e-4, 0.0100001);

            // The coordinator's view of the same job: per-epoch validation error from summed counts.
            var valError = await Query(http, $"last_over_time(plateau_job_val_top1_error{{job_id=\"{jobId}\"}}[30m])");
            Assert.InRange(Assert.Single(valError).Value, 0, 1);
        }
        finally
        {
            Stop(local);
            if (prometheus is not null)
            {
                Stop(prometheus);
                prometheus.Dispose();
            }
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>An instant query, retried only until Prometheus has started answering (it ingests scrapes in the background).</summary>
    private static async Task<List<Series>> Query(HttpClient http, string promQl)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/api/v1/query?query=" + Uri.EscapeDataString(promQl), UriKind.Relative));
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.IsSuccessStatusCode, $"{promQl}: HTTP {(int)response.StatusCode}: {body}");
                using var json = JsonDocument.Parse(body);
                var result = json.RootElement.GetProperty("data").GetProperty("result");
                var series = result.EnumerateArray().Select(r => new Series(
                    r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                    double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture))).ToList();
                Assert.True(series.Count > 0, $"{promQl}: no series in {body}");
                return series;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }

    private static Process Start(string file, IEnumerable<string> arguments, Action<string> onLine)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                onLine(line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                onLine(line);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already gone
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record Series(Dictionary<string, string> Labels, double Value);

    [GeneratedRegex(@"http://(?<target>127\.0\.0\.1:\d+)/metrics")]
    private static partial Regex Endpoint();

    [GeneratedRegex(@"^job (?<id>\S+):", RegexOptions.Multiline)]
    private static partial Regex JobLine();
}
