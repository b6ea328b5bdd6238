# SleuthKeylog.pm: makes swaks write its TLS session secrets to
# $SSLKEYLOGFILE in the NSS key log format, as curl and Python do on their
# own. Loaded with PERL5OPT=-MSleuthKeylog (make.sh). swaks drives OpenSSL
# through Net::SSLeay: every context made by Net::SSLeay::CTX_new gets
# OpenSSL's keylog callback (Net::SSLeay 1.90+). The module is loaded and
# wrapped in an INIT block, once swaks is compiled: loaded before, its
# prototypes reject some of swaks's calls.
package SleuthKeylog;
use strict;
use warnings;

INIT {
    my $file = $ENV{SSLKEYLOGFILE};
    if ($file) {
        require Net::SSLeay;
        my $orig = \&Net::SSLeay::CTX_new;
        no warnings 'redefine';
        *Net::SSLeay::CTX_new = sub () {
            my $ctx = $orig->();
            Net::SSLeay::CTX_set_keylog_callback($ctx, sub {
                my (undef, $line) = @_;
                open(my $fh, '>>', $file) or return;
                print $fh "$line\n";
                close($fh);
            }) if $ctx;
            return $ctx;
        };
    }
}
1;
