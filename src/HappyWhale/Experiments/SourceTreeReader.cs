using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace HappyWhale.Experiments;

/// <summary>A comment and the line it sits on; defaults.yaml keeps each key's rule in its trailing comment.</summary>
internal readonly record struct SourceComment(int Line, string Text);

/// <summary>The outcome of reading one YAML text: the root node (null when unreadable), its comments and any errors.</summary>
internal sealed record SourceDocument(SourceNode? Root, IReadOnlyList<SourceComment> Comments, IReadOnlyList<ExperimentError> Errors);

/// <summary>
/// Reads YAML text into a <see cref="SourceNode"/> tree through YamlDotNet's event parser, keeping
/// positions and comments. Errors are returned, not thrown, so the loader can report them together
/// with errors from other files.
/// </summary>
internal static partial class SourceTreeReader
{
    public static SourceDocument ReadFile(string path, string sourceLabel)
    {
        using var reader = new StreamReader(path);
        return Read(reader, sourceLabel);
    }

    /// <param name="columnOffset">added to every column, so a --set value reports its column within the whole argument</param>
    public static SourceDocument Read(TextReader text, string sourceLabel, int columnOffset = 0)
    {
        string content = text.ReadToEnd();
        var state = new ReaderState(sourceLabel, columnOffset, content);
        // Comments come from a token-level pass: YamlDotNet's parser, fed comment tokens, rejects a
        // trailing comment after a flow sequence ("b: [] # ..."), which list defaults need.
        CollectComments(content, state.Comments);
        try
        {
            var parser = new Parser(new Scanner(new StringReader(content), skipComments: true));
            state.Parser = parser;
            state.Next();
            state.Expect<StreamStart>();
            SourceNode? root = null;
            if (state.Current is DocumentStart)
            {
                state.Next();
                root = state.ReadNode();
                state.Expect<DocumentEnd>();
                if (state.Current is DocumentStart extra)
                    state.Errors.Add(new(state.Position(extra.Start), "only one YAML document is allowed per file"));
            }
            return new(root, state.Comments, state.Errors);
        }
        catch (YamlException e)
        {
            string message = StripMarks(e.Message);
            // YamlDotNet places a tab in the indentation at 1:1; the tab itself is what to fix.
            var at = message.Contains("tab", StringComparison.Ordinal) && IndentationTab(content) is { } tab
                ? state.Position(tab) : state.Position(e.Start);
            state.Errors.Add(new(at, "YAML syntax error: " + message + Hint(message)));
            return new(null, state.Comments, state.Errors);
        }
    }

    private static string Hint(string message) =>
        message.Contains("invalid mapping", StringComparison.Ordinal) || message.Contains("mapping values are not allowed", StringComparison.Ordinal)
            ? " A value holding ': ' needs quotes (description: \"note: see a: b\"); otherwise check this line's indentation."
            : message.Contains("tab", StringComparison.Ordinal) ? " Indent with spaces, not tabs." : "";

    /// <summary>The first tab in a line's leading whitespace, as a 1-based mark.</summary>
    private static Mark? IndentationTab(string content)
    {
        var lines = content.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int column = 0;
            while (column < lines[i].Length && lines[i][column] is ' ' or '\t')
            {
                if (lines[i][column] == '\t') return new Mark(0, i + 1, column + 1);
                column++;
            }
        }
        return null;
    }

    private static void CollectComments(string content, List<SourceComment> comments)
    {
        try
        {
            var scanner = new Scanner(new StringReader(content), skipComments: false);
            // After some syntax errors ("mapping values are not allowed here") YamlDotNet's scanner returns
            // an Error token at the same place forever; the bound guards against any other such stall.
            long budget = 4L * content.Length + 64;
            while (scanner.MoveNext() && budget-- > 0)
            {
                if (scanner.Current is YamlDotNet.Core.Tokens.Error) break;
                if (scanner.Current is YamlDotNet.Core.Tokens.Comment c) comments.Add(new((int)c.Start.Line, c.Value.Trim()));
            }
        }
        catch (YamlException) { }   // the parser pass reports syntax errors with their positions
    }

    // YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (...): "; our error carries the position already.
    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex MarkPrefix();

    private static string StripMarks(string message) => MarkPrefix().Replace(message, "");

    private sealed class ReaderState(string source, int columnOffset, string content)
    {
        // The scanner marks an error at the end of the input on the line after the last one.
        private readonly string[] _lines = content.TrimEnd('\n').Split('\n');

        public Parser Parser = null!;
        public ParsingEvent? Current;
        public readonly List<SourceComment> Comments = [];
        public readonly List<ExperimentError> Errors = [];
        private readonly Dictionary<string, SourceNode> _anchors = [];

        public SourcePosition Position(Mark mark)
        {
            int line = (int)Math.Max(1, mark.Line), column = (int)Math.Max(1, mark.Column);
            if (line > _lines.Length) (line, column) = (_lines.Length, _lines[^1].TrimEnd('\r').Length + 1);
            return new(source, line, column + columnOffset);
        }

        /// <summary>Advances to the next event that is not a comment, recording comments on the way.</summary>
        public void Next()
        {
            while (true)
            {
                Current = Parser.MoveNext() ? Parser.Current : null;
                if (Current is not Comment c) return;
                Comments.Add(new((int)c.Start.Line, c.Value.Trim()));
            }
        }

        public void Expect<T>() where T : ParsingEvent
        {
            if (Current is not T)
                throw new YamlException(Current?.Start ?? Mark.Empty, Current?.End ?? Mark.Empty,
                    $"expected {typeof(T).Name}, found {Current?.GetType().Name ?? "end of input"}");
            Next();
        }

        public SourceNode ReadNode()
        {
            var ev = Current ?? throw new YamlException("unexpected end of input");
            var at = Position(ev.Start);
            SourceNode node;
            switch (ev)
            {
                case AnchorAlias alias:
                    Next();
                    if (_anchors.TryGetValue(alias.Value.Value, out var target)) return target;
                    Errors.Add(new(at, $"unknown anchor '*{alias.Value.Value}'"));
                    return new SourceScalar(at, "", isPlain: true);
                case Scalar s:
                    // An explicit tag (!!str etc.) means the author chose the type; treat it like a quoted string.
                    node = new SourceScalar(at, s.Value, s.Style == ScalarStyle.Plain && s.Tag.IsEmpty);
                    Next();
                    break;
                case SequenceStart:
                    Next();
                    var list = new SourceList(at);
                    while (Current is not SequenceEnd) list.Items.Add(ReadNode());
                    Next();
                    node = list;
                    break;
                case MappingStart:
                    Next();
                    node = ReadMapBody(new SourceMap(at));
                    break;
                default:
                    throw new YamlException(ev.Start, ev.End, $"unexpected {ev.GetType().Name}");
            }
            if (ev is NodeEvent { Anchor.IsEmpty: false } anchored) _anchors[anchored.Anchor.Value] = node;
            return node;
        }

        private SourceMap ReadMapBody(SourceMap map)
        {
            while (Current is not MappingEnd)
            {
                var keyNode = ReadNode();
                var value = ReadNode();
                if (keyNode is not SourceScalar key)
                    Errors.Add(new(keyNode.At, "a key must be a plain word, not " + keyNode.Describe()));
                else if (map.TryGet(key.Value, out _))
                    Errors.Add(new(key.At, $"duplicate key '{key.Value}'"));
                else
                    map.Set(key, value);
            }
            Next();
            return map;
        }
    }
}
