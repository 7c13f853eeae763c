//! `player create|get|list|update|delete`: one player at a time, and paged lists.

use std::io::Write;

use anyhow::Context;
use clap::{ArgGroup, Args, Subcommand};
use diesel::mysql::MysqlConnection;
use player_core::db::{self, DatabaseUrl};
use player_core::models::PlayerChanges;
use player_core::{NewPlayer, Player, PlayerId, players};
use serde::Serialize;

use crate::args;
use crate::commands::write_json;

/// `player` subcommands.
#[derive(Debug, Subcommand)]
pub enum PlayerCommand {
    /// Create a player and print it.
    Create(CreateArgs),
    /// Print one player.
    Get(GetArgs),
    /// Print players ordered by id, one page at a time.
    List(ListArgs),
    /// Set a player's coins and/or goods, and print the player.
    #[command(group(ArgGroup::new("changes").required(true).multiple(true).args(["coins", "goods"])))]
    Update(UpdateArgs),
    /// Delete a player.
    Delete(DeleteArgs),
}

impl PlayerCommand {
    /// True for create, update and delete.
    pub fn changes_data(&self) -> bool {
        !matches!(self, Self::Get(_) | Self::List(_))
    }
}

/// Arguments of `player create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Id of the new player (1 to 36 characters) [default: a random UUID].
    #[arg(allow_negative_numbers = true)]
    pub id: Option<PlayerId>,
    /// Coins to start with.
    #[arg(long, default_value = "0", allow_negative_numbers = true, value_parser = args::balance)]
    pub coins: i32,
    /// Goods to start with.
    #[arg(long, default_value = "0", allow_negative_numbers = true, value_parser = args::balance)]
    pub goods: i32,
    /// Print the player as a JSON object instead of the tutorial's line.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `player get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// Id of the player.
    #[arg(allow_negative_numbers = true)]
    pub id: PlayerId,
    /// Print a JSON object instead of the tutorial's line.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `player list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Start after this id (pass the last id of a page to get the next one).
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    pub after: Option<PlayerId>,
    /// Players per page.
    #[arg(long, default_value = "20", allow_negative_numbers = true, value_parser = args::page_size)]
    pub limit: i64,
    /// Print a JSON array instead of the tutorial's lines.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `player update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Id of the player.
    #[arg(allow_negative_numbers = true)]
    pub id: PlayerId,
    /// New coins.
    #[arg(long, allow_negative_numbers = true, value_parser = args::balance)]
    pub coins: Option<i32>,
    /// New goods.
    #[arg(long, allow_negative_numbers = true, value_parser = args::balance)]
    pub goods: Option<i32>,
    /// Print the player as a JSON object instead of the tutorial's line.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `player delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Id of the player.
    #[arg(allow_negative_numbers = true)]
    pub id: PlayerId,
    /// Print a JSON object instead of a line.
    #[arg(long)]
    pub json: bool,
}

/// Runtime errors of the `player` commands besides the library's.
#[derive(Debug, thiserror::Error)]
pub enum PlayerError {
    /// No player has this id.
    #[error("no player with id {0:?}")]
    NotFound(PlayerId),
}

/// A player as `--json` prints it: `{"id":"alice","coins":100,"goods":0}`.
#[derive(Debug, Serialize)]
pub struct PlayerJson<'a> {
    /// Id, verbatim.
    pub id: &'a str,
    /// Coins held.
    pub coins: i32,
    /// Goods held.
    pub goods: i32,
}

/// What `player delete --json` prints: `{"id":"alice","deleted":true}`.
#[derive(Debug, Serialize)]
pub struct DeletedJson<'a> {
    /// Id of the player deleted.
    pub id: &'a str,
    /// Always true: a player that does not exist is an error.
    pub deleted: bool,
}

impl<'a> From<&'a Player> for PlayerJson<'a> {
    fn from(p: &'a Player) -> Self {
        Self {
            id: p.id.as_str(),
            coins: p.coins,
            goods: p.goods,
        }
    }
}

/// Runs one `player` subcommand, printing to `out`.
pub fn run(cmd: PlayerCommand, url: &DatabaseUrl, out: &mut impl Write) -> anyhow::Result<()> {
    let mut conn = db::connect(url)?;
    match cmd {
        PlayerCommand::Create(a) => create(&mut conn, a, out),
        PlayerCommand::Get(a) => get(&mut conn, &a, out),
        PlayerCommand::List(a) => list(&mut conn, &a, out),
        PlayerCommand::Update(a) => update(&mut conn, &a, out),
        PlayerCommand::Delete(a) => delete(&mut conn, &a, out),
    }
}

fn create(conn: &mut MysqlConnection, a: CreateArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let new = match a.id {
        Some(id) => NewPlayer::new(id, a.coins, a.goods),
        None => NewPlayer::random(a.coins, a.goods),
    };
    match players::create(conn, &new) {
        Err(e @ player_core::Error::AlreadyExists(_)) => Err(e.into()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot create the player")),
        Ok(()) => {
            let created = Player {
                id: new.id,
                coins: new.coins,
                goods: new.goods,
            };
            print_player(out, &created, a.json)
        }
    }
}

fn get(conn: &mut MysqlConnection, a: &GetArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let player = find(conn, &a.id)?;
    print_player(out, &player, a.json)
}

/// Prints a player as the tutorial's line or, with `json`, as [`PlayerJson`].
fn print_player(out: &mut impl Write, player: &Player, json: bool) -> anyhow::Result<()> {
    if json {
        write_json(out, &PlayerJson::from(player))
    } else {
        writeln!(out, "{player}")?;
        Ok(())
    }
}

fn list(conn: &mut MysqlConnection, a: &ListArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let page = players::list(conn, a.after.as_ref(), a.limit).context("cannot list players")?;
    if a.json {
        let page: Vec<PlayerJson<'_>> = page.iter().map(PlayerJson::from).collect();
        write_json(out, &page)
    } else {
        page.iter().try_for_each(|p| writeln!(out, "{p}"))?;
        Ok(())
    }
}

fn update(conn: &mut MysqlConnection, a: &UpdateArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let changes = PlayerChanges {
        coins: a.coins,
        goods: a.goods,
    };
    let found = players::update(conn, &a.id, &changes).context("cannot update the player")?;
    if !found {
        return Err(PlayerError::NotFound(a.id.clone()).into());
    }
    print_player(out, &find(conn, &a.id)?, a.json)
}

fn delete(conn: &mut MysqlConnection, a: &DeleteArgs, out: &mut impl Write) -> anyhow::Result<()> {
    // Read first to print the id as stored: `c   ` finds and deletes `c`.
    let stored = find(conn, &a.id)?.id;
    let found = players::delete(conn, &a.id).context("cannot delete the player")?;
    if !found {
        return Err(PlayerError::NotFound(a.id.clone()).into());
    }
    if a.json {
        return write_json(
            out,
            &DeletedJson {
                id: stored.as_str(),
                deleted: true,
            },
        );
    }
    writeln!(out, "deleted player {stored}")?;
    Ok(())
}

fn find(conn: &mut MysqlConnection, id: &PlayerId) -> anyhow::Result<Player> {
    players::get(conn, id)
        .context("cannot read the player")?
        .ok_or_else(|| PlayerError::NotFound(id.clone()).into())
}
