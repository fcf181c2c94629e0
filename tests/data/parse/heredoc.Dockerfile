FROM alpine
# Write the motd.
# It is two lines.
COPY <<EOF <<-'RAW' /etc/
motd for $HOSTNAME
EOF
	tabbed $NOT_EXPANDED
RAW
RUN 3<<SCRIPT sh -c 'cat <&3'
echo "quoted \"text\""
SCRIPT
