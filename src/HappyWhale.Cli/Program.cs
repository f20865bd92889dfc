using HappyWhale;
using HappyWhale.Cli;
using Spectre.Console;

// The `happywhale` program: parses the command line, calls src/HappyWhale, prints. Local runs and
// cluster jobs execute this same program.
try
{
    var cli = CliArgs.Parse(args);
    return Commands.Run(cli);
}
catch (Exception e) when (e is UserException or InvalidDataException or FileNotFoundException)
{
    // Bad input named by file and line: the message is the whole story. Written unwrapped, so a path
    // and its file:line:column stay whole (the console would break them at its width).
    AnsiConsole.Markup("[red]error:[/] ");
    Console.WriteLine(e.Message);
    return 2;
}
catch (Exception e)
{
    // Unexpected: keep the trace for a bug report, show the user one line.
    string log = ErrorLog.Write(e);
    AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
    AnsiConsole.MarkupLine($"[grey]This looks like a bug in HappyWhale; details are in {Markup.Escape(log)}[/]");
    return 1;
}
